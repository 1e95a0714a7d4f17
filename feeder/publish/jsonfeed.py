"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).

Item ``id`` is the same ``urn:uuid:`` as the Atom entry id (stable across rebuilds). Dates are
RFC 3339 in the article's own offset. Keys are written in a fixed order with a trailing newline,
so the same channel always gives the same bytes.
"""

from __future__ import annotations

import html
import json
from typing import Any

from feeder.publish.atom import rfc3339
from feeder.publish.items import Channel, Item

CONTENT_TYPE = "application/feed+json"
VERSION = "https://jsonfeed.org/version/1.1"


def _item(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.urn, "url": item.url, "title": item.title}
    # JSON Feed needs content_html or content_text; an article without either still has a title,
    # which is the most honest text we have.
    out["content_html"] = item.content_html or html.escape(item.summary or item.title,
                                                           quote=False)
    if item.summary:
        out["summary"] = item.summary
    if item.image is not None:
        out["image"] = item.image.url
    if item.published is not None:
        out["date_published"] = rfc3339(item.published)
    if item.updated is not None:
        out["date_modified"] = rfc3339(item.updated)
    if item.authors:
        out["authors"] = [{"name": a} for a in item.authors]
    if item.categories:
        out["tags"] = list(item.categories)
    if item.language:
        out["language"] = item.language
    return out


def render(channel: Channel) -> bytes:
    """The JSON Feed document of ``channel`` as UTF-8 bytes."""
    doc: dict[str, Any] = {
        "version": VERSION,
        "title": channel.title,
        "home_page_url": channel.home_url,
        "feed_url": channel.url("feed.json"),
        "description": channel.description,
    }
    if channel.language:
        doc["language"] = channel.language
    if channel.hubs:
        # JSON Feed 1.1 "hubs": endpoints for real-time notification of changes (WebSub).
        doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in channel.hubs]
    doc["items"] = [_item(i) for i in channel.items]
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

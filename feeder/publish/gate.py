"""The validity gate: a feed is checked before it may replace the published one.

Each ``check_*`` takes the serialised bytes (what subscribers would get, not our intentions) and
raises :class:`InvalidFeed` naming the first problem: not well-formed, a required element missing,
a date a reader cannot parse, a duplicate id. Passing the gate is necessary, not sufficient: the
full W3C validator runs in development (``bench/validate_feeds.py``), this runs on every publish.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"

# No network, no entities: we are checking our own output and must not be talked into fetching.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class InvalidFeed(ValueError):
    """The feed bytes break a rule; the message says which."""


def _xml(data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidFeed(f"not well-formed XML: {exc}") from exc


def _require(cond: object, message: str) -> None:
    if not cond:
        raise InvalidFeed(message)


def _absolute(url: str | None, what: str) -> None:
    parts = urlsplit(url or "")
    _require(parts.scheme in ("http", "https") and parts.netloc, f"{what} is not absolute: {url!r}")


def _rfc822(text: str | None, what: str) -> None:
    try:
        dt = parsedate_to_datetime(text or "")
    except (TypeError, ValueError) as exc:
        raise InvalidFeed(f"{what} is not an RFC 822 date: {text!r}") from exc
    _require(dt.tzinfo is not None, f"{what} has no zone: {text!r}")


def _rfc3339(text: str | None, what: str) -> None:
    value = (text or "").replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidFeed(f"{what} is not an RFC 3339 date: {text!r}") from exc
    _require("T" in value and dt.tzinfo is not None, f"{what} is not an RFC 3339 date: {text!r}")


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        _require(i not in seen, f"duplicate {what}: {i!r}")
        seen.add(i)


def check_rss(data: bytes) -> None:
    """RSS 2.0: channel title/link/description, item title or description, guids, dates."""
    root = _xml(data)
    _require(root.tag == "rss" and root.get("version") == "2.0", "root is not <rss version=2.0>")
    channel = root.find("channel")
    _require(channel is not None, "no <channel>")
    assert channel is not None
    for name in ("title", "link", "description"):
        _require((channel.findtext(name) or "").strip(), f"channel has no <{name}>")
    for name in ("lastBuildDate", "pubDate"):
        if channel.find(name) is not None:
            _rfc822(channel.findtext(name), f"channel <{name}>")
    guids = []
    for n, item in enumerate(channel.iterfind("item"), 1):
        _require(item.findtext("title") or item.findtext("description"),
                 f"item {n} has neither title nor description")
        guid = item.findtext("guid")
        _require(guid, f"item {n} has no guid")
        guids.append(guid or "")
        if item.find("link") is not None:
            _absolute(item.findtext("link"), f"item {n} link")
        if item.find("pubDate") is not None:
            _rfc822(item.findtext("pubDate"), f"item {n} pubDate")
    _unique(guids, "guid")


def check_atom(data: bytes) -> None:
    """Atom 1.0: feed id/title/updated, entry id/title/updated, one alternate link, unique ids."""
    root = _xml(data)
    _require(root.tag == f"{ATOM}feed", "root is not an Atom <feed>")
    for name in ("id", "title", "updated"):
        _require(root.find(ATOM + name) is not None, f"feed has no <{name}>")
    _rfc3339(root.findtext(ATOM + "updated"), "feed updated")
    ids = []
    for n, entry in enumerate(root.iterfind(ATOM + "entry"), 1):
        entry_id = entry.findtext(ATOM + "id")
        _require(entry_id, f"entry {n} has no id")
        ids.append(entry_id or "")
        _require(entry.find(ATOM + "title") is not None, f"entry {n} has no title")
        _rfc3339(entry.findtext(ATOM + "updated"), f"entry {n} updated")
        if entry.find(ATOM + "published") is not None:
            _rfc3339(entry.findtext(ATOM + "published"), f"entry {n} published")
        alternates = [link for link in entry.iterfind(ATOM + "link")
                      if link.get("rel", "alternate") == "alternate"]
        _require(len(alternates) == 1, f"entry {n} has {len(alternates)} alternate links")
        _absolute(alternates[0].get("href"), f"entry {n} alternate link")
    _unique(ids, "entry id")


def check_json(data: bytes) -> None:
    """JSON Feed 1.1: version, title, items with unique ids, content and RFC 3339 dates."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidFeed(f"not JSON: {exc}") from exc
    _require(isinstance(doc, dict), "top level is not an object")
    _require(str(doc.get("version", "")).startswith("https://jsonfeed.org/version/1"),
             "no JSON Feed version")
    _require(isinstance(doc.get("title"), str) and doc["title"], "no title")
    items = doc.get("items")
    _require(isinstance(items, list), "no items list")
    ids = []
    for n, item in enumerate(items, 1):
        _require(isinstance(item, dict), f"item {n} is not an object")
        _require(isinstance(item.get("id"), str) and item["id"], f"item {n} has no id")
        ids.append(item["id"])
        _require(item.get("content_html") or item.get("content_text"), f"item {n} has no content")
        for key in ("date_published", "date_modified"):
            if key in item:
                _rfc3339(item[key], f"item {n} {key}")
        if "url" in item:
            _absolute(item["url"], f"item {n} url")
    _unique(ids, "item id")

"""Atom 1.0 (RFC 4287), written with lxml.

feedgen 1.0.0 is not used here: its Atom writer drops ``rel``/``type`` on entry links, so an
enclosure becomes a second ``alternate`` link (RFC 4287 4.1.1 allows one alternate per type and
hreflang), and it sets ``updated`` to now() when not told otherwise.

Contract per entry: ``id`` is ``urn:uuid:<article id>`` (derived from the canonical URL, so it
never changes); ``updated`` is always present (the later of updated/published, or a fixed stand-in
date when the article has no date at all, see :mod:`feeder.publish.items`); exactly one
``link rel="alternate"``; the lead image as ``link rel="enclosure"``; ``content type="html"``;
``summary`` only when there is one and it differs from the content. The feed's ``updated`` is
the newest entry date.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree

from feeder.publish.items import (
    GENERATOR,
    GENERATOR_URI,
    UNDATED,
    Channel,
    Item,
    history_links,
)
from feeder.publish.rss import serialize

CONTENT_TYPE = "application/atom+xml"
NS = "http://www.w3.org/2005/Atom"
#: RFC 5005 (Feed Paging and Archiving) section 4: ``<fh:archive/>`` marks an archive document.
FH_NS = "http://purl.org/syndication/history/1.0"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def rfc3339(dt: datetime) -> str:
    """``2020-12-22T17:05:00+07:00``: the RFC 3339 form Atom and JSON Feed require."""
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS}}}{tag}", attrib)
    if text is not None:
        el.text = text
    return el


def feed_id(channel: Channel) -> str:
    """A stable feed id: a name-based UUID of the feed's own URL."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, channel.url('atom.xml'))}"


def _entry(feed: etree._Element, item: Item, channel: Channel) -> None:
    entry = _el(feed, "entry")
    if item.language and item.language != channel.language:
        entry.set(_XML_LANG, item.language)
    _el(entry, "id", item.urn)
    _el(entry, "title", item.title, type="text")
    _el(entry, "updated", rfc3339(item.updated_or_undated))
    if item.published is not None:
        _el(entry, "published", rfc3339(item.published))
    for name in item.authors:
        _el(_el(entry, "author"), "name", name)
    _el(entry, "link", rel="alternate", type="text/html", href=item.url)
    if item.image is not None:
        attrs = {"rel": "enclosure", "type": item.image.type, "href": item.image.url}
        if item.image.caption:
            attrs["title"] = item.image.caption
        _el(entry, "link", **attrs)
    for term in item.categories:
        _el(entry, "category", term=term)
    if item.summary and item.summary != item.content_html:
        _el(entry, "summary", item.summary, type="text")
    elif not item.content_html:
        # Valid without it (the entry has an alternate link), but readers then show an empty
        # entry and the W3C validator warns "Missing textual content"; the title is honest text.
        _el(entry, "summary", item.title, type="text")
    if item.content_html:
        # Without content, RFC 4287 4.1.1.1 is still met: every entry has an alternate link.
        _el(entry, "content", item.content_html, type="html")


def render(channel: Channel) -> bytes:
    """The Atom document of ``channel`` as UTF-8 bytes; the same channel gives the same bytes.

    An archive channel (``archive_month`` set) gives an RFC 5005 archive document: its own self
    link, ``<fh:archive/>`` and a ``current`` link to the live feed.
    """
    nsmap = {None: NS, "fh": FH_NS} if channel.archive_month else {None: NS}
    feed = etree.Element(f"{{{NS}}}feed", nsmap=nsmap)
    if channel.language:
        feed.set(_XML_LANG, channel.language)
    _el(feed, "id", feed_id(channel))
    _el(feed, "title", channel.title, type="text")
    _el(feed, "subtitle", channel.description, type="text")
    _el(feed, "updated", rfc3339(channel.updated or UNDATED))
    if channel.archive_month:
        etree.SubElement(feed, f"{{{FH_NS}}}archive")
    _el(feed, "link", rel="self", type=CONTENT_TYPE, href=channel.self_url("atom.xml"))
    _el(feed, "link", rel="alternate", type="text/html", href=channel.home_url)
    for rel, href in history_links(channel, "atom.xml"):
        attrs = {"rel": rel, "href": href}
        if rel != "hub":
            attrs["type"] = CONTENT_TYPE
        _el(feed, "link", **attrs)
    _el(feed, "generator", GENERATOR, uri=GENERATOR_URI)
    # RFC 4287 4.1.1: a feed without a feed-level author needs one in every entry; the site is
    # the author of last resort.
    _el(_el(feed, "author"), "name", channel.title)
    for item in channel.items:
        _entry(feed, item, channel)
    return serialize(feed)

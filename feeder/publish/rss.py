"""RSS 2.0 (https://www.rssboard.org/rss-specification), written with feedgen.

Choices, each for a reader or validator that cares:

* ``guid`` is the canonical URL with ``isPermaLink="true"``: the canonical URL is the article's
  identity in feeder (its id is derived from it), so the guid never changes across rebuilds.
* authors go in one ``dc:creator`` (names joined by ", ": readers show a single creator); RSS
  ``<author>`` must be an e-mail address, which we never have.
* ``pubDate`` is RFC 822 in the article's own offset (``+0700``), never converted to UTC.
* ``lastBuildDate`` is the newest item date, not the build time: feedgen defaults it to now(), so
  it is always set explicitly, and removed again when no item has a date (stable bytes).
* the lead image is an ``enclosure`` with ``length="0"``: RSS requires the attribute and we do not
  download images to measure them; the RSS Best Practices Profile says to use 0 when unknown.
* an ``xml-stylesheet`` processing instruction makes browsers show a readable page.
"""

from __future__ import annotations

import html

from feedgen.feed import FeedGenerator
from lxml import etree

from feeder.publish.items import (
    GENERATOR,
    GENERATOR_URI,
    STYLESHEET_HREF,
    Channel,
    history_links,
)

CONTENT_TYPE = "application/rss+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005


def render(channel: Channel) -> bytes:
    """The RSS 2.0 document of ``channel`` as UTF-8 bytes; the same channel gives the same bytes."""
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.title(channel.title)
    # feedgen takes the RSS <link> from the *last* link added, so the alternate goes last.
    fg.link(href=channel.self_url("rss.xml"), rel="self", type=CONTENT_TYPE)
    fg.link(href=channel.home_url, rel="alternate")
    fg.description(channel.description)
    if channel.language:
        fg.language(channel.language)
    fg.ttl(channel.ttl_minutes)
    fg.generator(GENERATOR, uri=GENERATOR_URI)
    updated = channel.updated
    if updated is not None:
        fg.lastBuildDate(updated)

    for item in channel.items:
        fe = fg.add_entry(order="append")  # feedgen prepends by default; we are already sorted
        fe.title(item.title)
        fe.link(href=item.url)
        fe.guid(item.url, permalink=True)
        if item.summary:
            # <description> is HTML: a plain-text summary is escaped so it shows as text.
            fe.description(html.escape(item.summary, quote=False))
            if item.content_html:
                fe.content(item.content_html)  # -> content:encoded
        elif item.content_html:
            fe.description(item.content_html)
        if item.authors:
            # One dc:creator with every name: readers (feedparser, newsboat) keep only one.
            fe.dc.dc_creator(", ".join(item.authors))
        for category in item.categories:
            fe.category(term=category)
        if item.image is not None:
            fe.enclosure(item.image.url, "0", item.image.type)  # length unknown: module docstring
        if item.published is not None:
            fe.pubDate(item.published)

    root = etree.fromstring(fg.rss_str(pretty=False))
    if updated is None:
        for stale in root.findall("channel/lastBuildDate"):
            stale.getparent().remove(stale)
    _add_history_links(root, channel)
    return serialize(root)


def _add_history_links(root: etree._Element, channel: Channel) -> None:
    """WebSub hubs and RFC 5005 links as ``atom:link``, right after feedgen's self link
    (feedgen writes only ``rel="self"`` into RSS); ``<fh:archive/>`` in an archive document."""
    channel_el = root.find("channel")
    assert channel_el is not None
    anchor = channel_el.find(f"{{{ATOM_NS}}}link")
    for rel, href in reversed(history_links(channel, "rss.xml")):
        link = etree.Element(f"{{{ATOM_NS}}}link", href=href, rel=rel)
        if rel != "hub":
            link.set("type", CONTENT_TYPE)
        if anchor is not None:
            anchor.addnext(link)
        else:
            channel_el.append(link)
    if channel.archive_month and anchor is not None:
        anchor.addnext(etree.Element(f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS}))


def serialize(root: etree._Element) -> bytes:
    """``root`` as an indented UTF-8 document behind the stylesheet instruction."""
    pi = etree.ProcessingInstruction(
        "xml-stylesheet", f'type="text/xsl" href="{STYLESHEET_HREF}"')
    root.addprevious(pi)
    etree.indent(root, space="  ")
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8",
                          pretty_print=True)

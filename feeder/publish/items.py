"""What every feed format is built from: a :class:`Channel` of cleaned, ordered :class:`Item` s.

The formats (RSS, Atom, JSON Feed) differ only in syntax; every decision about *what* goes into a
feed is made here, once, as pure functions of the articles:

* text is stripped of characters XML 1.0 forbids (a single U+0001 makes a feed unparseable), so
  all three formats carry the same text;
* items are ordered newest first with a stable tie-break, de-duplicated by id and limited;
* dates: an item's ``published`` is the article's own (or ``updated``); its ``updated`` is the
  later of the two. When an article has neither, the item carries :data:`UNDATED` where a format
  requires a date (Atom) and no date where it is optional, because anything derived from the build
  time would change the bytes on every run (ARCHITECTURE.md, habit 8);
* the channel's ``updated`` is the newest item date, never the time of the build.
"""

from __future__ import annotations

import math
import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from feeder.config import Source
from feeder.model import Article
from feeder.sanitize import plain_text, sanitize_html, without_private_images
from feeder.urls import is_private_from_public

#: The stand-in date where a format requires one (Atom ``updated``) and an article has none.
#: Constant so the bytes never change; not 1970, which the W3C validator flags as implausible
#: (it rejects anything before 1990). Rare: the pipeline fills ``published`` with the first-seen
#: time when a page shows no date.
UNDATED = datetime(2000, 1, 1, tzinfo=UTC)

#: The combined feed in ``<out>/all/`` holds at most this many items.
ALL_MAX_ITEMS = 100

#: Relative to a feed file in ``<out>/<id>/``; relative so previews on any host/port still work.
STYLESHEET_HREF = "../static/feed.xsl"

GENERATOR = "feeder"
GENERATOR_URI = "https://github.com/feeder-project/feeder"

# XML 1.0 Char production (https://www.w3.org/TR/xml/#charsets): everything outside it, i.e.
# C0 controls but TAB/LF/CR, lone surrogates and U+FFFE/U+FFFF. C1 controls (U+0080-U+009F) are
# legal but are mojibake in practice and the W3C validator flags them, so they go too.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

_IMAGE_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg", ".png": "image/png",
    ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
    ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
}


def clean(text: str | None) -> str:
    """``text`` without XML-illegal characters and surrounding whitespace (``None`` -> "")."""
    return _ILLEGAL.sub("", text).strip() if text else ""


def text(value: str | None) -> str:
    """A text field for a feed: :func:`clean`, and no markup (see feeder.sanitize)."""
    return plain_text(clean(value))


def image_type(url: str) -> str | None:
    """The MIME type of an image URL from its extension, or ``None`` when it cannot be told.

    Only the path counts (``a.jpg?w=300`` is a JPEG). An unknown type is ``None`` rather than a
    guess: an enclosure with a wrong type is worse than none.
    """
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    if dot < 0 or "/" in path[dot:]:
        return None
    ext = path[dot:]
    return _IMAGE_TYPES.get(ext) or (
        t if (t := mimetypes.types_map.get(ext)) and t.startswith("image/") else None)


@dataclass(frozen=True, slots=True)
class Enclosure:
    """The lead image as an enclosure. Its length is never known: images are not downloaded."""

    url: str
    type: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Item:
    """One feed item, cleaned and ready to serialise. Dates keep the article's own offset."""

    id: str  # the article id (a UUID from the canonical URL)
    url: str
    title: str
    summary: str  # plain text, "" when none
    content_html: str
    authors: tuple[str, ...]
    published: datetime | None
    updated: datetime | None
    language: str
    categories: tuple[str, ...]
    image: Enclosure | None

    @property
    def urn(self) -> str:
        """The Atom / JSON Feed id: stable for ever because it derives from the canonical URL."""
        return f"urn:uuid:{self.id}"

    @property
    def sort_date(self) -> datetime:
        return self.published or self.updated or UNDATED

    @property
    def updated_or_undated(self) -> datetime:
        return self.updated or self.published or UNDATED


@dataclass(frozen=True, slots=True)
class Channel:
    """One feed: its identity, links and items (newest first)."""

    key: str  # the folder under <out>: a source id or "all"
    title: str
    description: str
    home_url: str  # the site the feed is about
    feed_base: str  # absolute URL of the folder holding rss.xml, atom.xml, feed.json
    language: str | None
    ttl_minutes: int
    items: tuple[Item, ...]
    # Set when ``items`` is only part of the feed (the site files need no more than that).
    count: int | None = None
    latest: datetime | None = None
    # WebSub (https://www.w3.org/TR/websub/): the hubs the feed names for push subscriptions.
    hubs: tuple[str, ...] = ()
    # RFC 5005 archived feeds, as months ("YYYY-MM"; each format names its own file, see
    # archive_file): the archive behind this document, and for an archive document itself its
    # month and the newer archive's.
    prev_archive: str | None = None
    archive_month: str | None = None
    next_archive: str | None = None

    def url(self, name: str) -> str:
        return urljoin(self.feed_base, name)

    def self_url(self, name: str) -> str:
        """The document's own URL in the format whose feed file is ``name``: the archive's when
        it is one, else the feed file's."""
        return self.url(archive_file(self.archive_month, name) if self.archive_month else name)

    @property
    def size(self) -> int:
        """How many items the feed has."""
        return self.count if self.count is not None else len(self.items)

    @property
    def updated(self) -> datetime | None:
        """The newest item date; ``None`` for a feed without any dated item."""
        if self.latest is not None:
            return self.latest
        dates = [d for i in self.items for d in (i.updated, i.published) if d is not None]
        return max(dates) if dates else None


#: Where each format keeps a month's archive, under the feed's folder (RFC 5005).
ARCHIVE_FILES = {"atom.xml": "archive/{month}.xml", "rss.xml": "archive/{month}.rss"}


def archive_file(month: str, feed_name: str) -> str:
    """The archive of ``month`` in the format of ``feed_name`` ("atom.xml" or "rss.xml")."""
    return ARCHIVE_FILES[feed_name].format(month=month)


def history_links(channel: Channel, feed_name: str) -> list[tuple[str, str]]:
    """``(rel, href)`` of the WebSub hubs and RFC 5005 links ``channel`` declares, in order, for
    the format whose feed file is ``feed_name``: an RSS feed pages back through RSS archives,
    an Atom feed through Atom ones, and an archive points back to its own format's feed
    (``rel="current"``). Shared by Atom and RSS (``atom:link``), so both declare the same.
    """
    links = [("hub", hub) for hub in channel.hubs]
    if channel.archive_month:
        links.append(("current", channel.url(feed_name)))
    if channel.prev_archive:
        links.append(("prev-archive", channel.url(archive_file(channel.prev_archive, feed_name))))
    if channel.next_archive:
        links.append(("next-archive", channel.url(archive_file(channel.next_archive, feed_name))))
    return links


def _second(dt: datetime | None) -> datetime | None:
    # Sub-second precision is noise in a feed, and RFC 822 cannot carry it anyway.
    return dt.replace(microsecond=0) if dt is not None else None


def item_from(article: Article, *, default_language: str) -> Item:
    """Build the item for one article; total (never raises on missing optional fields)."""
    published = _second(article.published or article.updated)
    updated = _second(article.updated)
    if updated is not None and published is not None and updated < published:
        updated = published  # "updated" before "published" is a source error; never go back
    lead = article.lead_image
    image = None
    if (lead is not None and lead.url and not is_private_from_public(lead.url, article.url)
            and (kind := image_type(lead.url))):
        image = Enclosure(url=clean(lead.url), type=kind, caption=text(lead.caption))
    title = text(article.title) or text(article.summary)[:120] or clean(article.url)
    return Item(
        id=article.id,
        url=clean(article.url),
        title=title,
        summary=text(article.summary),
        # Sanitised again here: whatever produced the record, no script reaches a feed.
        content_html=without_private_images(sanitize_html(clean(article.content_html)),
                                            article.url),
        authors=tuple(a for a in (text(x) for x in article.authors) if a),
        published=published,
        updated=updated or published,
        language=clean(article.language) or default_language,
        categories=tuple(c for c in (text(x) for x in article.categories) if c),
        image=image,
    )


def order(items: Iterable[Item], limit: int) -> tuple[Item, ...]:
    """Newest first by publication date, ties by id (stable bytes), first of each id, ``limit``."""
    seen: dict[str, Item] = {}
    for item in sorted(items, key=lambda i: (-i.sort_date.timestamp(), i.id)):
        seen.setdefault(item.id, item)
    return tuple(seen.values())[: max(limit, 0)]


def ttl_minutes(interval_seconds: float) -> int:
    """RSS ``<ttl>``: the poll interval in whole minutes, at least one."""
    return max(1, math.ceil(interval_seconds / 60))


def source_channel(source: Source, articles: Sequence[Article], base_url: str, *,
                   count: int | None = None, latest: datetime | None = None,
                   hubs: tuple[str, ...] = (), prev_archive: str | None = None) -> Channel:
    """The channel of one source, its items re-sorted and limited to ``source.max_items``.

    ``count`` and ``latest`` describe the whole feed when ``articles`` is only part of it;
    ``hubs`` and ``prev_archive`` (the newest archive's month) are declared in the feed
    (WebSub, RFC 5005).
    """
    name = clean(source.name) or source.id
    language = clean(source.language) or "vi"
    items = [item_from(a, default_language=language) for a in articles]
    return Channel(
        key=source.id,
        title=name,
        description=clean(source.description) or f"{name}: {source.home}",
        home_url=source.home,
        feed_base=urljoin(base_url, f"{source.id}/"),
        language=language,
        ttl_minutes=ttl_minutes(source.interval.total_seconds()),
        items=order(items, source.max_items),
        count=count,
        latest=_second(latest),
        hubs=hubs,
        prev_archive=prev_archive,
    )


def combined_channel(channels: Sequence[Channel], base_url: str,
                     limit: int = ALL_MAX_ITEMS, hubs: tuple[str, ...] = ()) -> Channel:
    """The ``all`` channel: every source's items merged, newest first, at most ``limit``."""
    languages = {c.language for c in channels}
    return Channel(
        key="all",
        title="All sources",
        # Sorted, so that reordering the configuration does not rewrite the combined feed.
        description="Newest articles of every source: "
        + ", ".join(sorted(c.title for c in channels)),
        home_url=base_url,
        feed_base=urljoin(base_url, "all/"),
        # A channel language only when every source agrees; items carry their own anyway.
        language=languages.pop() if len(languages) == 1 else None,
        ttl_minutes=min((c.ttl_minutes for c in channels), default=30),
        items=order((i for c in channels for i in c.items), limit),
        hubs=hubs,
    )

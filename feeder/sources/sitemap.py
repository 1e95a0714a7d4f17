"""Sitemaps (sitemaps.org 0.9), sitemap indexes and Google News sitemaps -> announcements.

A sitemap may be 50 MB and an index may list thousands of sitemaps, so nothing here holds a whole
document: :func:`parse` reads the body as it streams in (lxml's pull parser, each ``<url>`` or
``<sitemap>`` element dropped once read) and keeps only the newest entries. Why lxml and not a
sitemap library: lxml is already a dependency, its pull parser keeps memory flat on a stream we
control, and the libraries fetch for themselves, bypassing feeder's politeness, robots.txt, caps
and conditional GET.

A gzip sitemap (``sitemap.xml.gz``, whatever its Content-Type) is recognised by its magic bytes
and inflated on the fly, under the same byte cap as the download.

What a poll reads (:func:`collect`)::

    sitemap URL  -> a urlset: its newest entries
                 -> an index: its newest few sitemaps (by lastmod), each read as a urlset

Conditional GET makes an unchanged sitemap a 304, and lastmod / news:publication_date let the
pipeline skip known articles that did not change (feeder.sources.changed_since_fetched).
"""

from __future__ import annotations

import heapq
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from feeder.errors import FetchError, FetchRefused
from feeder.fetch import Consumer, Streamed
from feeder.model import CacheInfo, NotModified
from feeder.sources import Announcement
from feeder.urls import try_clean_url

__all__ = ["Child", "Sitemap", "SitemapRead", "collect", "parse", "parse_w3c_datetime"]

log = logging.getLogger(__name__)

#: Entries of a urlset kept per sitemap (the newest); a poll fetches far fewer articles anyway.
KEEP_ENTRIES = 1000
#: Sitemaps of an index read per poll: the most recently modified ones.
KEEP_CHILDREN = 3

_GZIP_MAGIC = b"\x1f\x8b"
_INFLATE_STEP = 256 * 1024


@dataclass(frozen=True, slots=True)
class Child:
    """A sitemap listed in a sitemap index."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    """What one sitemap document holds (only its newest entries or children are kept)."""

    url: str
    is_index: bool
    entries: tuple[Announcement, ...] = ()  # newest first: dated by date, then document order
    children: tuple[Child, ...] = ()  # an index's newest sitemaps
    count: int = 0  # <url> or <sitemap> elements in the whole document
    news: bool = False  # a Google News sitemap (news:publication_date)


@dataclass(frozen=True, slots=True)
class SitemapRead:
    """One poll's reading of a source's sitemap URL (and the sitemaps its index points to)."""

    announced: tuple[Announcement, ...]
    validators: tuple[tuple[str, CacheInfo], ...]  # every sitemap fetched, for the store
    not_modified: bool  # the top sitemap answered 304
    errors: tuple[str, ...] = ()  # sitemaps of an index that failed (the others still count)
    is_index: bool = False  # the URL is a sitemap index
    news: bool = False  # a sitemap read carries news:publication_date
    count: int = 0  # entries of the top document (<url> or <sitemap> elements)
    moved_to: str | None = None  # where the sitemap URL now lives (permanent redirects only)


Fetch = Callable[[str, Consumer], "Streamed | NotModified"]


def collect(url: str, fetch: Fetch, *, tz: ZoneInfo, max_bytes: int | None = None,
            keep_children: int = KEEP_CHILDREN, keep: int = KEEP_ENTRIES) -> SitemapRead:
    """Read the sitemap at ``url``: a urlset's newest entries, or an index's newest sitemaps'.

    ``fetch(url, consume)`` does the HTTP (conditional, streamed); a FetchError for ``url``
    itself goes up, one for a sitemap of the index is reported in ``errors``.
    """
    got = fetch(url, _consumer(url, tz, keep, max_bytes))
    if isinstance(got, NotModified):
        return SitemapRead((), ((url, got.cache),), not_modified=True)
    top: Sitemap = got.value
    validators = [(url, got.cache)]
    if not top.is_index:
        return SitemapRead(top.entries, tuple(validators), not_modified=False, news=top.news,
                           count=top.count, moved_to=got.moved_to)
    announced: list[Announcement] = []
    errors: list[str] = []
    news = False
    for child in top.children[:keep_children]:
        try:
            sub = fetch(child.url, _consumer(child.url, tz, keep, max_bytes))
        except FetchError as exc:
            log.warning("sitemap.child_error url=%s error=%s", child.url, exc)
            errors.append(str(exc))
            continue
        validators.append((child.url, sub.cache))
        if isinstance(sub, NotModified):
            continue
        if sub.value.is_index:  # the protocol does not nest indexes; do not wander further
            errors.append(f"{child.url}: a sitemap index inside a sitemap index, not followed")
            continue
        announced += sub.value.entries
        news = news or sub.value.news
    return SitemapRead(tuple(announced), tuple(validators), not_modified=False,
                       errors=tuple(errors), is_index=True, news=news, count=top.count,
                       moved_to=got.moved_to)


def _consumer(url: str, tz: ZoneInfo, keep: int, max_bytes: int | None) -> Consumer:
    def consume(chunks: Iterator[bytes]) -> Sitemap:
        return parse(chunks, url, tz=tz, keep=keep, max_bytes=max_bytes)

    return consume


def parse(chunks: Iterable[bytes], url: str, *, tz: ZoneInfo, keep: int = KEEP_ENTRIES,
          keep_children: int = KEEP_CHILDREN, max_bytes: int | None = None) -> Sitemap:
    """Parse a sitemap, a sitemap index or a news sitemap from ``chunks`` of its body.

    Plain or gzip. Keeps the ``keep`` newest entries (``keep_children`` newest sitemaps of an
    index); times without an offset are in ``tz``. ``max_bytes`` caps the inflated size of a gzip
    body (the download itself is capped by the fetcher). Raises FetchError naming ``url`` when
    the body is not well-formed XML or not a sitemap.
    """
    parser = etree.XMLPullParser(events=("end",), resolve_entities=False, no_network=True,
                                 remove_comments=True, remove_pis=True)
    state = _State(url, tz, keep, keep_children)
    try:
        for piece in _inflated(chunks, url, max_bytes):
            parser.feed(piece)
            state.take(parser.read_events())
        root = parser.close()
        state.take(parser.read_events())
    except etree.XMLSyntaxError as exc:
        raise FetchError(f"malformed sitemap XML: {exc}", url=url, status=200) from None
    root_name = etree.QName(root).localname
    if root_name not in ("urlset", "sitemapindex"):
        raise FetchError(f"not a sitemap: the document is <{root_name}>, not <urlset> or "
                         "<sitemapindex>", url=url, status=200)
    return state.result(is_index=root_name == "sitemapindex")


class _State:
    """The newest entries seen so far, in bounded heaps."""

    def __init__(self, url: str, tz: ZoneInfo, keep: int, keep_children: int) -> None:
        self.url, self.tz = url, tz
        self.keep, self.keep_children = keep, keep_children
        self.entries: list[tuple[tuple[float, int], Announcement]] = []
        self.children: list[tuple[tuple[float, int], Child]] = []
        self.count = 0
        self.news = False

    def take(self, events: Iterable[tuple[str, etree._Element]]) -> None:
        for _event, el in events:
            parent = el.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # only the root's children (<url>, <sitemap>) are entries
            name = etree.QName(el).localname
            if name in ("url", "sitemap"):
                self.count += 1
                fields = self._fields(el)
                loc = try_clean_url(fields.get("loc", ""), self.url)
                if loc is not None:
                    (self._url if name == "url" else self._sitemap)(loc, fields)
            # Drop what has been read, so memory stays flat however long the document is.
            el.clear()
            while el.getprevious() is not None:
                del parent[0]

    def _fields(self, el: etree._Element) -> dict[str, str]:
        out: dict[str, str] = {}
        for node in el.iter():
            if node is el or not isinstance(node.tag, str):
                continue
            name = etree.QName(node).localname
            if name not in out and node.text and node.text.strip():
                out[name] = node.text.strip()
        return out

    def _url(self, loc: str, fields: dict[str, str]) -> None:
        published = parse_w3c_datetime(fields.get("publication_date"), self.tz)
        lastmod = parse_w3c_datetime(fields.get("lastmod"), self.tz)
        self.news = self.news or published is not None
        modified = max((d for d in (lastmod, published) if d is not None), default=None)
        entry = Announcement(url=loc, text=fields.get("title"), modified=modified,
                             published=published, origin="sitemap")
        _push(self.entries, (_order(modified), -self.count), entry, self.keep)

    def _sitemap(self, loc: str, fields: dict[str, str]) -> None:
        lastmod = parse_w3c_datetime(fields.get("lastmod"), self.tz)
        _push(self.children, (_order(lastmod), -self.count), Child(loc, lastmod),
              self.keep_children)

    def result(self, *, is_index: bool) -> Sitemap:
        entries = tuple(e for _, e in sorted(self.entries, key=lambda p: p[0], reverse=True))
        children = tuple(c for _, c in sorted(self.children, key=lambda p: p[0], reverse=True))
        return Sitemap(self.url, is_index, entries, children, self.count, self.news)


def _order(when: datetime | None) -> float:
    """Dated entries before undated ones; among dated, the newest first."""
    return when.timestamp() if when is not None else float("-inf")


def _push(heap: list[Any], key: tuple[float, int], item: object, size: int) -> None:
    """Keep the ``size`` largest keys in ``heap`` (a min-heap: the smallest kept is at 0)."""
    if len(heap) < size:
        heapq.heappush(heap, (key, item))
    elif key > heap[0][0]:
        heapq.heapreplace(heap, (key, item))


def _inflated(chunks: Iterable[bytes], url: str, max_bytes: int | None) -> Iterator[bytes]:
    """The chunks, gunzipped on the fly when the body is a gzip file; inflated size capped."""
    it = iter(chunks)
    first = b""
    for first in it:
        if first:
            break
    if not first.startswith(_GZIP_MAGIC):
        if first:
            yield first
        yield from it
        return
    z = zlib.decompressobj(16 + zlib.MAX_WBITS)
    produced = 0
    for data in _prepend(first, it):
        while data:
            try:
                piece = z.decompress(data, _INFLATE_STEP)
            except zlib.error as exc:
                raise FetchError(f"corrupt gzip sitemap: {exc}", url=url, status=200) from None
            produced += len(piece)
            if max_bytes is not None and produced > max_bytes:
                raise FetchRefused(f"gzip sitemap inflates past the {max_bytes} byte cap",
                                   url=url, status=200)
            if piece:
                yield piece
            data = z.unconsumed_tail
            if z.eof:
                return


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def parse_w3c_datetime(value: str | None, tz: ZoneInfo) -> datetime | None:
    """A W3C datetime ("2024-06-02", "2024-06-02T10:05+07:00", "...Z") as an aware datetime;
    without an offset it is in ``tz``; ``None`` when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 10:
        text += "T00:00:00"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)

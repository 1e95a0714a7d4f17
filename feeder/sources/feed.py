"""An existing RSS or Atom feed -> announcements (``kind = "feed"``).

Many sites publish a feed that carries a title and a sentence, or is broken in places. feeder
reads it only to learn which articles exist: each entry's link is then fetched and extracted like
any article, so the feeds feeder writes carry the full text. The entry's own date, authors and
summary travel along as evidence (feeder.sources.with_evidence): they fill what a page leaves
out and never replace what the page says.

feedparser does the parsing: it reads RSS 0.9x-2.0 and Atom, tolerates the usual breakage, and
reports what it could not read (``bozo``). A body from which it gets no entry and which it
flagged is reported as not a feed, naming the URL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import feedparser

from feeder.errors import FetchError
from feeder.sanitize import plain_text
from feeder.sources import Announcement
from feeder.sources.sitemap import parse_w3c_datetime
from feeder.urls import try_clean_url

__all__ = ["parse"]


def parse(content: bytes, url: str, *, tz: ZoneInfo) -> tuple[Announcement, ...]:
    """The entries of a feed body, in feed order, as announcements.

    Raises FetchError naming ``url`` when the body is not a feed.
    """
    parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS or Atom entries"
        raise FetchError(f"not a readable RSS/Atom feed: {reason}", url=url, status=200)
    base = parsed.feed.get("link") or url
    out: list[Announcement] = []
    for entry in parsed.entries:
        link = _link(entry)
        clean = try_clean_url(link, base) if link else None
        if clean is None:
            continue
        published = _when(entry, "published", tz) or _when(entry, "created", tz)
        updated = _when(entry, "updated", tz)
        summary = plain_text(entry.get("summary") or "").strip() or None
        title = " ".join((entry.get("title") or "").split()) or None
        out.append(Announcement(
            url=clean, text=title, modified=updated or published, published=published,
            authors=_authors(entry), summary=summary, origin="feed"))
    return tuple(out)


def _link(entry: Any) -> str | None:
    for link in entry.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    link = entry.get("link") or entry.get("id")
    return str(link) if link else None


def _when(entry: Any, field: str, tz: ZoneInfo) -> datetime | None:
    """The entry's date in its own offset: the raw string first (feedparser's parsed form is
    UTC), the parsed form as a fallback."""
    # dict.get: FeedParserDict.get maps a missing "updated" to "published", with a warning.
    raw = dict.get(entry, field)
    if isinstance(raw, str) and raw.strip():
        when: datetime | None
        try:
            when = parsedate_to_datetime(raw)  # RSS: RFC 822
        except (TypeError, ValueError, IndexError):
            when = parse_w3c_datetime(raw, tz)  # Atom: RFC 3339
        if when is not None:
            return when if when.tzinfo is not None else when.replace(tzinfo=tz)
    parsed = dict.get(entry, f"{field}_parsed")
    if parsed:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return None


def _authors(entry: Any) -> tuple[str, ...]:
    names = [str(a.get("name")).strip() for a in entry.get("authors") or () if a.get("name")]
    if not names and entry.get("author"):
        names = [str(entry["author"]).strip()]
    # RSS <author> is "email (Name)"; keep the name.
    cleaned = [n.split("(", 1)[1].rstrip(")").strip() if "@" in n and "(" in n else n
               for n in names]
    return tuple(dict.fromkeys(n for n in cleaned if n and "@" not in n))

"""The canonical records passed between stages.

An :class:`Article` is what extraction produces from one page and what the store keeps and the
publishers write. Field names are a contract (``feeder extract`` prints them as JSON); add fields,
never rename them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from feeder.config import Source


@dataclass(frozen=True, slots=True)
class Image:
    """An image of the article with its caption (``None`` when it has none)."""

    url: str
    caption: str | None = None
    credit: str | None = None
    alt: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"url": self.url, "caption": self.caption, "credit": self.credit, "alt": self.alt}


def article_id(canonical_url: str) -> str:
    """The stable id of an article: a UUID derived from its canonical URL.

    The same URL always gives the same id, so RSS guids, Atom ids and JSON Feed ids never change
    across rebuilds, and two sites never collide.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, canonical_url))


@dataclass(frozen=True, slots=True)
class Article:
    """One article, as the canonical record.

    ``published`` and ``updated`` are aware datetimes in the article's own offset (or ``None`` when
    the page does not say). ``content_html`` is sanitised; ``content_text`` is its plain text
    without the byline. ``provenance`` maps a field name to where its value came from
    (``"json-ld"``, ``"og"``, ``"visible"``, ...), for debugging extraction.
    """

    url: str
    title: str
    source: str = ""
    summary: str | None = None
    content_html: str = ""
    content_text: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    language: str | None = None
    categories: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    provenance: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        for name in ("published", "updated"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"Article.{name} must be timezone-aware, got {value!r}")

    @property
    def id(self) -> str:
        return article_id(self.url)

    @property
    def content_hash(self) -> str:
        """A hash of what a reader sees; it changes when the article is edited.

        ``updated`` is left out on purpose: a page that only bumps its "modified" stamp is not an
        edit a subscriber needs to see again.
        """
        payload = {
            "title": self.title,
            "summary": self.summary,
            "content_html": self.content_html,
            "authors": list(self.authors),
            "published": self.published.isoformat() if self.published else None,
            "categories": list(self.categories),
            "images": [i.to_dict() for i in self.images],
        }
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(data).hexdigest()

    @property
    def lead_image(self) -> Image | None:
        return self.images[0] if self.images else None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data, with the contract's field names."""
        return {
            "id": self.id,
            "url": self.url,
            "source": self.source,
            "title": self.title,
            "summary": self.summary,
            "content_html": self.content_html,
            "content_text": self.content_text,
            "authors": list(self.authors),
            "published": self.published.isoformat() if self.published else None,
            "updated": self.updated.isoformat() if self.updated else None,
            "language": self.language,
            "categories": list(self.categories),
            "images": [i.to_dict() for i in self.images],
            "content_hash": self.content_hash,
            "provenance": dict(self.provenance),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Article:
        """Inverse of :meth:`to_dict` (derived fields ``id`` and ``content_hash`` are ignored)."""

        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["authors"] = tuple(data.get("authors") or ())
        kwargs["categories"] = tuple(data.get("categories") or ())
        kwargs["images"] = tuple(Image(**i) for i in data.get("images") or ())
        kwargs["published"] = when(data.get("published"))
        kwargs["updated"] = when(data.get("updated"))
        kwargs["provenance"] = dict(data.get("provenance") or {})
        return cls(**kwargs)


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Items in first-seen order without repeats."""
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """HTTP validators stored per URL and sent back as If-None-Match / If-Modified-Since."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched HTML page. ``url`` is what was asked for, ``final_url`` where redirects ended."""

    url: str
    final_url: str
    status: int
    content: bytes
    text: str
    encoding: str
    content_type: str = "text/html"
    cache: CacheInfo = field(default_factory=CacheInfo)
    elapsed_ms: float = 0.0
    # Where ``url`` now lives when every redirect on the way was permanent (301 / 308): the
    # configuration should say so.
    moved_to: str | None = None


@dataclass(frozen=True, slots=True)
class NotModified:
    """The server answered 304: what we have is current."""

    url: str
    cache: CacheInfo = field(default_factory=CacheInfo)


@dataclass(frozen=True, slots=True)
class ArticleLink:
    """An article link found on a listing page: absolute, without fragment or tracking params."""

    url: str
    text: str | None = None


# So many polls in a row with a listing that yields no article flag a source's selectors.
EMPTY_POLLS_BROKEN = 3


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """What the store knows about a source's polling, for index pages and ``feeder status``."""

    source: str
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_due: datetime | None = None
    item_count: int = 0
    empty_polls: int = 0  # polls in a row whose listing yielded no article
    lead_only: int = 0  # stored items whose text was not found (lead and link only)

    @property
    def ok(self) -> bool:
        return self.consecutive_failures == 0

    @property
    def selectors_broken(self) -> bool:
        """The listing keeps loading but yields no article: the site's markup probably changed."""
        return self.empty_polls >= EMPTY_POLLS_BROKEN


@dataclass(frozen=True, slots=True)
class SourceFeed:
    """Everything the publishers need for one source: its config, newest items first, health."""

    source: Source
    articles: tuple[Article, ...]
    health: SourceHealth | None = None
    # For the site files only: when ``articles`` holds just the items that reach the combined
    # feed, these give the source feed's real size and newest date.
    item_count: int | None = None
    newest: datetime | None = None

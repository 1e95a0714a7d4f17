"""Which item is a fetched page? Pure decisions about an article's identity (issue 9).

An item's id is its canonical URL (``Article.url``): the page's same-site ``<link
rel=canonical>``, else the fetched URL cleaned of tracking parameters (``feeder.urls``). Two rules
keep that id honest within one source:

1. **A canonical link may not take over another article.** A page fetched at U that names
   another URL C as canonical is C only when nothing says C is a different article: when C is
   also a page of this poll that is its own canonical, or a link of this poll's listings that
   is stored as an item, and that page or item has another headline, the canonical link is
   wrong (a template bug, a hostile page) and the page keeps U as its id. (A stored C that is
   not listed is not evidence: it may be this very page before its headline was edited.)
2. **The same article under two URLs without a canonical link is one item.** A page whose id
   comes from its URL (no canonical) and whose headline and text equal another page of this poll
   or a stored item of the source is that page or item (``?from=home`` and ``?from=menu``
   variants of one story).

Everything here is a function of data: no network, no database, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from feeder.model import Article
from feeder.urls import try_clean_url

__all__ = ["Fetched", "Settled", "settle"]


@dataclass(frozen=True, slots=True)
class Fetched:
    """One article page of a poll: the extracted record and the URL it was fetched at."""

    article: Article
    fetched_url: str


@dataclass(frozen=True, slots=True)
class Settled:
    """A page with its identity decided. ``same_as`` is set when the page is another article
    (of this poll or of the store) under a second URL: store nothing new for it."""

    article: Article
    fetched_url: str
    same_as: Article | None = None


def settle(pages: Sequence[Fetched], known: Mapping[str, Article],
           listed: Collection[str] = ()) -> list[Settled]:
    """Decide each page's identity (see the module docstring), in the order given.

    ``known`` maps an item's URL (its id) to the stored article, for the source's recent items
    and for every URL a page names as canonical; ``listed`` are the poll's (clean) links.
    """
    own = {_own_url(p): p.article for p in pages if p.article.url == _own_url(p)}
    out: list[Settled] = []
    for page in pages:
        article = page.article
        claimed = article.url
        if claimed != _own_url(page):
            other = own.get(claimed) or (known.get(claimed) if claimed in listed else None)
            if other is not None and _norm(other.title) != _norm(article.title):
                article = replace(article, url=_own_url(page),
                                  provenance={**article.provenance,
                                              "url": "given:canonical-is-another-article"})
        out.append(Settled(article, page.fetched_url))
    return _merge_copies(out, known)


def _merge_copies(pages: list[Settled], known: Mapping[str, Article]) -> list[Settled]:
    """Rule 2: pages without a canonical link that repeat another item become that item."""
    by_print: dict[str, Article] = {}
    for article in known.values():
        by_print.setdefault(_fingerprint(article), article)
    # An item's own URL wins over its copies: pages that are their own canonical come first.
    for s in pages:
        if s.article.provenance.get("url") == "canonical":
            by_print.setdefault(_fingerprint(s.article), s.article)
    out: list[Settled] = []
    for s in pages:
        if s.article.provenance.get("url") == "canonical":
            out.append(s)
            continue
        first = by_print.setdefault(_fingerprint(s.article), s.article)
        if first.url == s.article.url:
            out.append(s)
        else:
            out.append(replace(s, same_as=first))
    return out


def _own_url(page: Fetched) -> str:
    return try_clean_url(page.fetched_url) or page.fetched_url


def _norm(title: str) -> str:
    return " ".join(title.casefold().split())


def _fingerprint(article: Article) -> str:
    """What a reader sees as "the same article": headline and text, spacing aside."""
    text = f"{_norm(article.title)}\n{' '.join(article.content_text.split())}"
    return hashlib.sha256(text.encode()).hexdigest()

"""How a source announces its articles: the three kinds of ``Source.kind``.

::

    "listing"   HTML listing pages      feeder.discover.links        -> links with anchor text
    "sitemap"   sitemap / index / news  feeder.sources.sitemap       -> links with lastmod, dates
    "feed"      RSS / Atom              feeder.sources.feed          -> links with date, author,
                                                                        summary

Each yields :class:`Announcement` s; from there the kinds share everything: the store decides what
is new, every article page is fetched and extracted into a full record, and publish writes the
feeds. What an announcement says about its article (a feed's date and author, a news sitemap's
publication date) is evidence: :func:`with_evidence` lets it fill what the page leaves empty and
never beat what the page itself says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from feeder.model import Article

__all__ = ["Announcement", "changed_since_fetched", "with_evidence"]

# A published time from the page that a feed or news sitemap's own date beats: a page that prints
# only its "last updated" stamp says less about publication than the publisher's feed does.
_WEAK_PUBLISHED = frozenset({"updated-only"})


@dataclass(frozen=True, slots=True)
class Announcement:
    """One article as a listing, sitemap or feed announces it.

    ``modified`` is when the announcer says the article last changed (sitemap ``lastmod``, a news
    sitemap's publication date, a feed entry's ``updated``); ``published``, ``authors``,
    ``summary`` and ``title`` are evidence about the article (see :func:`with_evidence`);
    ``origin`` names the announcer in provenance ("sitemap", "feed").
    """

    url: str
    text: str | None = None
    modified: datetime | None = None
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    summary: str | None = None
    origin: str = "listing"


def with_evidence(article: Article, announced: Announcement) -> Article:
    """``article`` with the announcement's evidence filling what the page did not say. Pure.

    The page wins whenever it has a value: its own date (unless it only printed an update time),
    its byline, its lead. Each field taken from the announcement says so in ``provenance``.
    """
    prov = dict(article.provenance)
    changes: dict[str, object] = {}
    if announced.published is not None and (
            article.published is None or prov.get("published") in _WEAK_PUBLISHED):
        changes["published"] = announced.published
        prov["published"] = announced.origin
    if announced.authors and not article.authors:
        changes["authors"] = announced.authors
        prov["authors"] = announced.origin
    if announced.summary and not article.summary:
        changes["summary"] = announced.summary
        prov["summary"] = announced.origin
    if not changes:
        return article
    return replace(article, provenance=prov, **changes)  # type: ignore[arg-type]


def changed_since_fetched(announced: Sequence[Announcement], to_fetch: Sequence[str],
                          fetched: Mapping[str, datetime | None]) -> list[str]:
    """Which article URLs a poll fetches, given what the announcer says changed. Pure.

    ``to_fetch`` is the store's answer for the announced URLs (never fetched, or due for an edit
    check), in order; ``fetched`` maps each known URL to when it was last fetched. An announced
    date decides for the URLs that carry one: a known article is fetched again only when its date
    is later than the last fetch, and not merely because an edit check is due.
    """
    dated = {a.url: a.modified for a in announced if a.modified is not None}
    out: list[str] = []
    for url in to_fetch:
        when, last = dated.get(url), fetched.get(url)
        if when is not None and last is not None and when <= last:
            continue  # the announcer says it has not changed since we fetched it
        out.append(url)
    for a in announced:
        last = fetched.get(a.url)
        if a.modified is not None and last is not None and a.modified > last:
            out.append(a.url)  # changed according to the announcer, though no check is due
    return list(dict.fromkeys(out))

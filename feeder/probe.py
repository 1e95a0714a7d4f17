"""`feeder probe URL`: look at a site the way polling would, and propose a source for it.

::

    fetch URL (robots.txt, User-Agent, caps: feeder.fetch)   -> the page, or a clear refusal
    | the page's <link rel="alternate"> feeds                 -> read with feedparser
    | robots.txt Sitemap: lines, /sitemap.xml                 -> read streamed (sources.sitemap)
    | the page's article links                                -> feeder.discover.links
    choose(found)                                             -> Proposal: a Source and why
    | preview: one real poll of the proposal into a scratch store and folder (the pipeline,
      extraction and publish items subscribers get), its first five items
    | warnings: no times, the same author everywhere, links leaving the site
    --write: feeds/ID.toml (never over an existing file without --force)

Choosing is pure (:func:`choose`); everything that fetches is in :func:`survey` and
:func:`preview`.
"""

from __future__ import annotations

import itertools
import re
import statistics
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TextIO
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from lxml import html as lxml_html

from feeder.config import Config, Settings, Source
from feeder.discover import links as discover_links
from feeder.errors import ConfigError, FetchError
from feeder.fetch import Fetcher, is_public_host
from feeder.model import Article, ArticleLink, NotModified, Page
from feeder.sources import Announcement
from feeder.sources import feed as feed_source
from feeder.sources import sitemap as sitemap_source
from feeder.urls import same_site

__all__ = ["Found", "Proposal", "choose", "describe", "fix_for", "preview", "run", "survey",
           "to_toml", "warnings"]

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
              "application/rss", "application/atom", "text/xml", "application/xml")
# An entry's summary shorter than this (median) makes a feed "truncated": the page has more.
TRUNCATED_CHARS = 400
# Automatic discovery finding fewer links than this is unsure: a selector is proposed.
SURE_LINKS = 5
PREVIEW_ITEMS = 5
# Offsets seen on pages -> the zone to propose (the commonest zone of each offset for news).
_ZONES = {
    7: "Asia/Ho_Chi_Minh", 8: "Asia/Singapore", 9: "Asia/Tokyo", 0: "UTC", 1: "Europe/Paris",
    2: "Europe/Athens", 3: "Europe/Moscow", 5.5: "Asia/Kolkata", -5: "America/New_York",
}
_NICE_INTERVALS = tuple(timedelta(minutes=m) for m in (5, 10, 15, 30, 60, 120, 180, 360))
# Times without an offset in a feed or sitemap, while probing: the default source timezone (the
# written proposal gets the zone the page's own offsets suggest).
_NAIVE_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_OFFSET_RE = re.compile(r"T\d\d:\d\d(?::\d\d(?:\.\d+)?)?([+-]\d\d):?(\d\d)\b")


@dataclass(frozen=True, slots=True)
class FeedFound:
    url: str
    entries: tuple[Announcement, ...] = ()
    error: str | None = None

    @property
    def truncated(self) -> bool:
        lengths = [len(e.summary or "") for e in self.entries]
        return bool(lengths) and statistics.median(lengths) < TRUNCATED_CHARS


@dataclass(frozen=True, slots=True)
class SitemapFound:
    url: str
    entries: tuple[Announcement, ...] = ()
    is_index: bool = False
    news: bool = False
    count: int = 0
    error: str | None = None
    declared: bool = True  # named in robots.txt (else tried at /sitemap.xml)


@dataclass(frozen=True, slots=True)
class Found:
    """Everything a probe learnt about a URL."""

    url: str
    page: Page | None = None
    refused: str | None = None  # why the page itself could not be had (robots.txt, HTTP)
    site_name: str | None = None
    title: str | None = None
    language: str | None = None
    offsets: tuple[timedelta, ...] = ()  # UTC offsets of the times the page prints
    feeds: tuple[FeedFound, ...] = ()
    sitemaps: tuple[SitemapFound, ...] = ()
    links: tuple[ArticleLink, ...] = ()
    selector: str | None = None  # a link selector that finds more than automatic discovery
    selected: tuple[ArticleLink, ...] = ()  # the links ``selector`` finds


@dataclass(frozen=True, slots=True)
class Proposal:
    source: Source | None  # None: nothing to make a source of
    why: str
    announced: tuple[Announcement, ...] = ()
    notes: tuple[str, ...] = field(default=())


# -- fetching --------------------------------------------------------------------------------

def survey(url: str, fetcher: Fetcher) -> Found:
    """Fetch ``url`` politely and everything it points to that could announce articles."""
    allow_private = not is_public_host(urlsplit(url).hostname or "")
    try:
        got = fetcher.get(url, kind="listing", allow_private=allow_private)
    except FetchError as exc:
        return Found(url, refused=str(exc))
    assert not isinstance(got, NotModified)  # no validators were sent
    doc = lxml_html.fromstring(got.text or "<html></html>", base_url=got.final_url)
    base = got.final_url
    feeds = tuple(_read_feed(u, fetcher, allow_private) for u in _declared_feeds(doc, base))
    declared = fetcher.robots_sitemaps(base, allow_private=allow_private)
    sitemaps = [_read_sitemap(u, fetcher, allow_private) for u in declared]
    default = urljoin(base, "/sitemap.xml")
    if default not in declared:
        tried = _read_sitemap(default, fetcher, allow_private, declared=False)
        if tried.error is None:  # an absent /sitemap.xml is no news
            sitemaps.append(tried)
    probe_source = Source(id="probe", name="probe", urls=(url,))
    found_links = discover_links(got, probe_source)
    selector = suggest_selector(got, found_links) if len(found_links) < SURE_LINKS else None
    selected = discover_links(got, replace(probe_source, link_selector=selector)) \
        if selector else ()
    return Found(
        url=url, page=got, site_name=_meta(doc, "og:site_name"), title=_title(doc),
        language=_language(doc), offsets=_offsets(got.text), feeds=feeds,
        sitemaps=tuple(sitemaps), links=found_links, selector=selector, selected=selected)


def _read_feed(url: str, fetcher: Fetcher, allow_private: bool) -> FeedFound:
    try:
        got = fetcher.get(url, kind="feed", allow_private=allow_private)
        assert not isinstance(got, NotModified)
        return FeedFound(url, feed_source.parse(got.content, got.final_url, tz=_NAIVE_TZ))
    except FetchError as exc:
        return FeedFound(url, error=str(exc))


def _read_sitemap(url: str, fetcher: Fetcher, allow_private: bool, *,
                  declared: bool = True) -> SitemapFound:
    try:
        read = sitemap_source.collect(
            url, lambda u, consume: fetcher.stream(u, consume, kind="sitemap",
                                                   allow_private=allow_private),
            tz=_NAIVE_TZ,
            max_bytes=fetcher.settings.max_sitemap_bytes)
    except FetchError as exc:
        return SitemapFound(url, error=str(exc), declared=declared)
    return SitemapFound(url, read.announced, read.is_index, read.news, read.count,
                        declared=declared)


def preview(proposal: Source, settings: Settings, fetcher: Fetcher,
            items: int = PREVIEW_ITEMS) -> tuple[list[Article], list[str]]:
    """Poll ``proposal`` once for real, into a scratch store and output folder, and return its
    newest ``items`` articles as the feeds carry them, and the poll's problems."""
    from feeder.pipeline import Poller
    from feeder.store import Store

    with tempfile.TemporaryDirectory(prefix="feeder-probe-") as tmp:
        scratch = replace(settings, out=Path(tmp) / "public",
                          database=f"sqlite:///{Path(tmp) / 'probe.db'}",
                          max_articles_per_poll=items, metrics_file=None, hubs=())
        store = Store(scratch.database)
        try:
            poller = Poller(Config(settings=scratch, sources=(proposal,)), store, fetcher)
            result = poller.poll(proposal)
            articles = list(store.articles_for(proposal.id, items))
        finally:
            store.close()
    problems = [p for p in (result.error, *result.failed_pages) if p]
    return articles, problems


# -- page reading ----------------------------------------------------------------------------

def _declared_feeds(doc: lxml_html.HtmlElement, base: str) -> list[str]:
    out = []
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = link.get("href")
        if "alternate" in rel and href and kind in FEED_TYPES and "json" not in kind:
            out.append(urljoin(base, href.strip()))
    return list(dict.fromkeys(out))


def _meta(doc: lxml_html.HtmlElement, prop: str) -> str | None:
    for meta in doc.iter("meta"):
        if prop in (meta.get("property"), meta.get("name")):
            value = " ".join((meta.get("content") or "").split())
            if value:
                return value
    return None


def _title(doc: lxml_html.HtmlElement) -> str | None:
    node = doc.find(".//title")
    text = " ".join(node.text_content().split()) if node is not None else ""
    return text or None


def _language(doc: lxml_html.HtmlElement) -> str | None:
    lang = (doc.get("lang") or doc.get("{http://www.w3.org/XML/1998/namespace}lang") or
            _meta(doc, "og:locale") or "")
    primary = re.split(r"[-_]", lang.strip().lower())[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _offsets(text: str) -> tuple[timedelta, ...]:
    out = []
    for hours, minutes in _OFFSET_RE.findall(text):
        sign = -1 if hours.startswith("-") else 1
        out.append(sign * timedelta(hours=abs(int(hours)), minutes=int(minutes)))
    return tuple(out)


def suggest_selector(page: Page, found: Sequence[ArticleLink]) -> str | None:
    """A CSS selector for the headline links a listing repeats (``h3.title a``), when it selects
    more of them than automatic discovery found; else None.

    Headline links: on the listing's site, with a headline-length text (four words or more),
    grouped by their parent's tag and first class (a parent without a class must be a heading:
    ``li > a`` would take menus too); the largest group of three or more wins if at least four
    in five of the links it selects are headline links.
    """
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(page.text, "lxml")
    shapes: Counter[str] = Counter()
    for a in soup.find_all("a", href=True):
        parent = a.parent
        if not isinstance(parent, Tag) or parent.name in ("body", "html", "[document]"):
            continue
        href = urljoin(page.final_url, str(a["href"]))
        if not href.startswith("http") or not same_site(href, page.final_url):
            continue
        if len(a.get_text(" ", strip=True).split()) < 4:
            continue
        classes: list[str] = list(parent.get("class") or [])
        if not classes and parent.name not in ("h1", "h2", "h3", "h4", "h5", "h6"):
            continue
        shapes[parent.name + (f".{classes[0]}" if classes else "") + " > a"] += 1
    for shape, count in shapes.most_common(1):
        selected = soup.select(shape)
        if count >= 3 and count > len(found) and count >= 0.8 * len(selected):
            return shape
    return None


# -- the proposal (pure) ---------------------------------------------------------------------

def choose(found: Found) -> Proposal:
    """The best way to poll what ``found`` describes, as a Source, and why. Pure."""
    if found.page is None:
        return Proposal(None, f"cannot read {found.url}: {found.refused}")
    site = found.page.final_url
    section = urlsplit(site).path.strip("/") != ""

    def on_site(entries: Sequence[Announcement]) -> tuple[Announcement, ...]:
        return tuple(e for e in entries if same_site(e.url, site))

    options: list[tuple[float, str, tuple[str, ...], tuple[Announcement, ...], str]] = []
    for s in found.sitemaps:
        entries = on_site(s.entries)
        if s.error or not entries:
            continue
        dated = sum(e.modified is not None for e in entries)
        label = "news sitemap" if s.news else "sitemap index" if s.is_index else "sitemap"
        score = 3.0 if s.news else 1.5 if dated else 0.5
        options.append((score, "sitemap", (s.url,), entries,
                        f"{label} {s.url} lists {s.count} entries, {dated} of them dated"))
    for f in found.feeds:
        entries = on_site(f.entries)
        if f.error or not entries:
            continue
        kind = "truncated " if f.truncated else ""
        options.append((2.0, "feed", (f.url,), entries,
                        f"the page declares a {kind}feed {f.url} with {len(entries)} entries "
                        "(each entry's page is fetched: the result is full text)"))
    listed = found.selected or found.links
    if listed:
        # A section's own listing is what its URL asks for; a site-wide sitemap is not.
        score = 3.5 if section and len(listed) >= SURE_LINKS else 1.0
        entries = tuple(Announcement(link.url, link.text) for link in listed)
        how = f"with link_selector {found.selector!r}" if found.selected else "found automatically"
        options.append((score, "listing", (found.url,), entries,
                        f"the page lists {len(listed)} article links ({how})"))
    if not options:
        return Proposal(None, f"{found.url}: found no declared feed, no sitemap and no article "
                              "links: feeder cannot make a source of this page")
    score, kind, urls, entries, why = max(options, key=lambda o: o[0])
    selector = found.selector if kind == "listing" else None
    notes: tuple[str, ...] = ()
    if kind == "listing" and len(listed) < SURE_LINKS:
        notes = (f"only {len(listed)} article link(s) found; check them",)
    source = Source(
        id=_source_id(found, section and kind == "listing"),
        name=_name(found, section and kind == "listing"),
        urls=urls, kind=kind, link_selector=selector,
        timezone=_timezone(found), language=found.language or "vi",
        interval=interval_from(entries), home_url=None)
    others = [o[4] for o in options if o[4] != why]
    return Proposal(source, why + (f" (also found: {'; '.join(others)})" if others else ""),
                    entries, notes)


def interval_from(entries: Sequence[Announcement]) -> timedelta:
    """A polling interval from the dates seen: half the median gap between the newest items,
    rounded to a usual value between 5 minutes and 6 hours; 30 minutes without dates."""
    dates = sorted({d for e in entries if (d := e.published or e.modified) is not None},
                   reverse=True)[:30]
    if len(dates) < 3:
        return timedelta(minutes=30)
    gaps = sorted(a - b for a, b in itertools.pairwise(dates))
    wanted = gaps[len(gaps) // 2] / 2
    return min(_NICE_INTERVALS, key=lambda nice: abs(nice - wanted))


def _source_id(found: Found, with_path: bool) -> str:
    assert found.page is not None
    parts = urlsplit(found.page.final_url)
    host = (parts.hostname or "site").removeprefix("www.")
    label = "" if re.fullmatch(r"[\d.:\[\]]+", host) else host.split(".")[0]  # not an IP
    base = _slug(_site_name(found) or "") or _slug(label) or "site"
    leaf = _slug(parts.path.strip("/").split("/")[-1]) if with_path else ""
    return f"{base}-{leaf}"[:64].strip("-") if leaf else base[:64]


def _site_name(found: Found) -> str | None:
    """og:site_name, else the part of the title after its last separator ("Thời sự - Báo X")."""
    if found.site_name:
        return found.site_name
    parts = re.split(r"\s+[-|–—]\s+", found.title or "")
    return parts[-1].strip() if len(parts) > 1 else None


def _name(found: Found, section: bool) -> str:
    title = found.title or ""
    site = _site_name(found) or title or found.url
    if section and title:
        head = re.split(r"\s+[-|–—]\s+", title)[0].strip()
        if head and head != site:
            return f"{site} — {head}"
    return site


def _timezone(found: Found) -> str:
    if found.offsets:
        offset, _ = Counter(found.offsets).most_common(1)[0]
        hours = offset.total_seconds() / 3600
        if hours in _ZONES:
            return _ZONES[hours]
        if hours == int(hours):
            return f"Etc/GMT{-int(hours):+d}"  # POSIX sign: Etc/GMT-7 is UTC+7
    return "Asia/Ho_Chi_Minh" if (found.language or "vi") == "vi" else "UTC"


def _slug(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# -- checks and output -----------------------------------------------------------------------

def warnings(proposal: Proposal, articles: Sequence[Article], site: str) -> list[str]:
    """What looks wrong in a proposal's first items. Pure."""
    out = []
    leaving = [a.url for a in proposal.announced if not same_site(a.url, site)]
    if leaving:
        out.append(f"{len(leaving)} of {len(proposal.announced)} announced links leave the site "
                   f"(e.g. {leaving[0]}); they are not followed")
    if not articles:
        out.append("no item could be published from the proposal")
        return out
    undated = [a for a in articles if a.provenance.get("published") == "first-seen"]
    if len(undated) == len(articles):
        out.append("no item shows a publication time: items are dated when feeder first sees "
                   "them")
    elif undated:
        out.append(f"{len(undated)} of {len(articles)} items show no publication time")
    bylines = {a.authors for a in articles}
    if len(articles) >= 3 and len(bylines) == 1 and next(iter(bylines)):
        out.append(f"every item has the same author ({', '.join(next(iter(bylines)))}): "
                   "probably the site's name or a template byline, not a reporter")
    leaving_items = [a.url for a in articles if not same_site(a.url, site)]
    if leaving_items:
        out.append(f"{len(leaving_items)} item(s) have a canonical URL on another site "
                   f"(e.g. {leaving_items[0]})")
    return out


def to_toml(source: Source, why: str = "") -> str:
    """The proposal as a feeds/ID.toml file (keys left at their defaults are left out)."""
    lines = [f"# Proposed by `feeder probe {source.url}`."]
    if why:
        lines.append(f"# Why: {why}"[:300])
    values: list[tuple[str, object]] = [("id", source.id), ("name", source.name)]
    if source.kind != "listing":
        values.append(("kind", source.kind))
    values.append(("url", source.url) if len(source.urls) == 1 else ("urls", list(source.urls)))
    if source.link_selector:
        values.append(("link_selector", source.link_selector))
    values += [("timezone", source.timezone), ("language", source.language),
               ("interval", _duration(source.interval))]
    for key, value in values:
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    import json

    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


def fix_for(configured: Source, proposal: Proposal, found: Found) -> list[str]:
    """How a configured source of the same URL should change to match what the site does now."""
    out: list[str] = []
    if proposal.source is None:
        return out
    new = proposal.source
    if configured.kind != new.kind or configured.urls != new.urls:
        out.append(f'kind = "{new.kind}" with url = "{new.url}" (now: kind = '
                   f'"{configured.kind}", url = "{configured.url}")')
    if configured.link_selector and configured.kind == "listing" and found.page is not None:
        selected = discover_links(found.page, configured)
        if len(selected) < len(found.links):
            out.append(f"link_selector {configured.link_selector!r} selects {len(selected)} "
                       f"link(s) now, automatic discovery {len(found.links)}: "
                       + (f"use {new.link_selector!r}" if new.link_selector else "remove it"))
    return out


def describe(found: Found) -> list[str]:
    """What was found, one line each."""
    lines = []
    for f in found.feeds:
        lines.append(f"feed     {f.url}: " + (f.error or f"{len(f.entries)} entries"
                                               + (", truncated" if f.truncated else "")))
    for s in found.sitemaps:
        label = "news sitemap" if s.news else "index" if s.is_index else "sitemap"
        origin = "robots.txt" if s.declared else "/sitemap.xml"
        lines.append(f"sitemap  {s.url} ({origin}): " + (s.error or f"{label}, {s.count} entries"))
    lines.append(f"listing  {found.url}: {len(found.links)} article links"
                 + (f" (a selector finds more: {found.selector})" if found.selector else ""))
    return lines



# -- the command -----------------------------------------------------------------------------

def run(url: str, cfg: Config, fetcher: Fetcher, *, write: bool = False, force: bool = False,
        out: TextIO | None = None) -> int:
    """``feeder probe``: survey, propose, preview, warn, and with ``write`` save the file.

    Returns the exit status: 0 with a proposal, 1 without one (robots.txt, nothing found). A file
    that exists without ``force`` is a ConfigError (status 2), raised before anything is fetched.
    """
    out = out or sys.stdout
    found = survey(url, fetcher)
    if found.refused is not None:
        if "disallowed by robots.txt" in found.refused:
            print(f"robots.txt disallows {url} for {fetcher.robots_agent!r}: feeder will not "
                  f"poll it, so there is nothing to propose ({found.refused})", file=out)
        else:
            print(f"cannot read {url}: {found.refused}", file=out)
        return 1
    print(f"feeder probe {url}", file=out)
    for line in describe(found):
        print(f"  {line}", file=out)
    proposal = choose(found)
    if proposal.source is None:
        print(proposal.why, file=out)
        return 1
    source = proposal.source
    target = cfg.feeds_dir / f"{source.id}.toml"
    if write and target.exists() and not force:
        raise ConfigError(f"{target} exists; --force overwrites it", file=str(target),
                          source=source.id)
    print(f"\nproposal: kind = {source.kind!r}: {proposal.why}", file=out)
    for note in proposal.notes:
        print(f"  note: {note}", file=out)
    toml_text = to_toml(source, proposal.why)
    print(f"\n--- {target}\n{toml_text}---", file=out)
    articles, problems = preview(source, cfg.settings, fetcher)
    _print_preview(articles, source, out)
    assert found.page is not None
    problems += warnings(proposal, articles, found.page.final_url)
    print("\nwarnings:" if problems else "\nwarnings: none", file=out)
    for problem in problems:
        print(f"  - {problem}", file=out)
    # A configured source of this site: its listing is this page, or it reads a sitemap or feed
    # found here.
    seen = {url, found.page.final_url, *(f.url for f in found.feeds),
            *(m.url for m in found.sitemaps)}
    for configured in cfg.sources:
        if seen & set(configured.urls):
            fixes = fix_for(configured, proposal, found)
            where = configured.file or "the configuration"
            if fixes:
                print(f"\nconfigured source {configured.id!r} ({where}) should change:",
                      file=out)
                for fix in fixes:
                    print(f"  - {fix}", file=out)
            if found.page.moved_to:
                print(f"\n{url} moved permanently to {found.page.moved_to}: update "
                      f"{configured.id!r}", file=out)
    if write:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(toml_text, encoding="utf-8")
        print(f"\nwrote {target}", file=out)
    else:
        print(f"\n(--write saves {target})", file=out)
    return 0


def _print_preview(articles: Sequence[Article], source: Source, out: TextIO) -> None:
    from feeder.publish.items import item_from

    print(f"\npreview: the first {len(articles)} items as subscribers get them", file=out)
    for n, article in enumerate(articles, 1):
        item = item_from(article, default_language=source.language)
        when = item.published.isoformat() if item.published else "(no time)"
        print(f"{n}. {item.title}", file=out)
        print(f"   {when} | {', '.join(item.authors) or '(no author)'} | {item.url}", file=out)
        if item.summary:
            print(f"   {item.summary[:200]}", file=out)
        image = article.lead_image
        if image is not None:
            print(f"   image: {image.url}" + (f" — {image.caption}" if image.caption else
                                               " (no caption)"), file=out)

"""Listing page -> article links.

:func:`links` returns the article links of a listing page in the order they appear in its main
listing: absolute, cleaned by :func:`feeder.urls.clean_url` (no fragment, no tracking parameters)
and unique. With ``source.link_selector`` the selector decides; otherwise automatic discovery:

1. candidates: links on the listing's site (its registrable domain: sections on subdomains count)
   whose URL looks like an article (:func:`feeder.discover.articles.article_score`), or looks
   a little like one and sits in a URL folder with several clear articles of the page
   ("/news/Wine-11.4-Released" beside "/news/linux-7-0-brings-new-scheduler-options");
2. minus the links inside page furniture (:mod:`feeder.discover.furniture`): menus, headers and
   footers, sidebars and secondary columns, "most read", ranking and related boxes. A sidebar
   often repeats a main-list article; since the sidebar is skipped, the article keeps its
   main-list position.
3. minus, on a site whose stories carry an id or a date, the links with neither, a short slug
   and a short text: its sections and service pages ("/kinh-doanh/tai-chinh.htm" "Tài chính").

Discovery is generic: no rule names a site.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from feeder.config import Source
from feeder.discover.articles import (
    ARTICLE,
    WEAK,
    article_score,
    has_story_id,
    headline_slug,
    headline_text,
    is_article_url,
    same_site_family,
    url_folder,
)
from feeder.discover.furniture import Furniture
from feeder.model import ArticleLink, Page
from feeder.urls import clean_url, try_clean_url

__all__ = ["is_article_url", "links"]

_SKIPPED_HREFS = ("#", "javascript:", "mailto:", "tel:", "data:")
# A site names its stories by id or date when this share of a page's candidate links (at least
# _ID_SITE_MIN of them) carry one.
_ID_SITE_MIN = 10
_ID_SITE_SHARE = 0.8
_FOLDER_SUPPORT = 3  # clear articles in a URL folder that vouch for a weak link there


def links(page: Page, source: Source) -> tuple[ArticleLink, ...]:
    """The article links of a listing page, in order of appearance, absolute, clean and unique.

    ``source.link_selector`` (a CSS selector) picks the links when set: it may select ``<a>``
    elements or containers (the first ``<a href>`` inside counts); only the URL hygiene applies
    then. The text of each link is the first anchor text found for its URL, whitespace-collapsed;
    else a ``title`` or image ``alt``; else ``None``.
    """
    soup = BeautifulSoup(page.text, "lxml")
    base = _base_url(soup, page.final_url or page.url)
    if source.link_selector:
        anchors = _selected_anchors(soup, source.link_selector)
        return _collect((a, url) for a in anchors
                        if (url := try_clean_url(str(a.get("href")), base)))
    return _collect(_discovered(soup, base, page, source))


def _discovered(soup: BeautifulSoup, base: str, page: Page,
                source: Source) -> Iterator[tuple[Tag, str]]:
    sites = [base, page.final_url or page.url, *source.urls]
    here = {clean_url(u) for u in (page.url, page.final_url) if u}
    scored: list[tuple[Tag, str, int]] = []
    for a in soup.find_all("a", href=True):
        href = str(a["href"]).strip()
        if not href or href.startswith(_SKIPPED_HREFS) or "sponsored" in (a.get("rel") or []):
            continue
        url = try_clean_url(href, base)
        if url is None or url in here or not any(same_site_family(url, s) for s in sites):
            continue
        score = article_score(url, _anchor_text(a))
        if score >= WEAK:
            scored.append((a, url, score))
    folders: dict[str, set[str]] = {}
    for _, url, score in scored:
        if score >= ARTICLE:
            folders.setdefault(url_folder(url), set()).add(url)
    candidates = [(a, url) for a, url, score in scored if score >= ARTICLE
                  or len(folders.get(url_folder(url), ())) >= _FOLDER_SUPPORT]
    weight: dict[int, int] = {}
    for a, _ in candidates:
        for el in (a, *a.parents):  # the anchor too: box titles come before its links
            weight[id(el)] = weight.get(id(el), 0) + 1
    furniture = Furniture(soup, weight, len(candidates), base, page.final_url or page.url)
    listing = [(a, url) for a, url in candidates if not furniture.inside(a)]
    sections = _unmarked_sections(listing)
    yield from ((a, url) for a, url in listing if url not in sections)


def _unmarked_sections(candidates: list[tuple[Tag, str]]) -> set[str]:
    """Section and service pages among the candidates of a site whose stories carry an id or a
    date: on such a site a link with neither, with a short slug and no headline for its text
    ("/kinh-doanh/tai-chinh.htm" "Tài chính", "/static/dieu-khoan.htm") is no story."""
    urls = {url for _, url in candidates}
    marked = {url for url in urls if has_story_id(url)}
    if len(urls) < _ID_SITE_MIN or len(marked) < _ID_SITE_SHARE * len(urls):
        return set()
    headlined = {url for a, url in candidates if headline_text(_anchor_text(a))}
    return {url for url in urls - marked - headlined if not headline_slug(url)}


def _base_url(soup: BeautifulSoup, page_url: str) -> str:
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        return clean_url(str(base["href"]), page_url)
    return page_url


def _selected_anchors(soup: BeautifulSoup, selector: str) -> Iterator[Tag]:
    for el in soup.select(selector):
        if el.name == "a" and el.get("href"):
            yield el
        else:
            inner = el.find("a", href=True)
            if isinstance(inner, Tag):
                yield inner


def _collect(pairs: Iterable[tuple[Tag, str]]) -> tuple[ArticleLink, ...]:
    """First occurrence wins the position; the first anchor text of its own wins the text.

    An image link often comes before the headline link to the same article; its ``alt`` (a photo
    description) or ``title`` is used only when no link to that article has text of its own.
    """
    order: dict[str, tuple[str | None, bool]] = {}  # url -> (text, text is the anchor's own)
    for a, url in pairs:
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        own = _own_text(a)
        known = order.get(url)
        if known is None:
            order[url] = (own, True) if own else (_fallback_text(a), False)
        elif not known[1] and own:
            order[url] = (own, True)
        elif known[0] is None:
            order[url] = (_fallback_text(a), False)
    return tuple(ArticleLink(url=u, text=t) for u, (t, _) in order.items())


def _own_text(a: Tag) -> str | None:
    return " ".join(a.get_text(" ", strip=True).split()) or None


def _fallback_text(a: Tag) -> str | None:
    title = a.get("title")
    if title and str(title).strip():
        return " ".join(str(title).split())
    img = a.find("img", alt=True)
    if isinstance(img, Tag) and str(img["alt"]).strip():
        return " ".join(str(img["alt"]).split())
    return None


def _anchor_text(a: Tag) -> str | None:
    return _own_text(a) or _fallback_text(a)

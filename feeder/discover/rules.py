"""Listing page -> article links.

:func:`links` returns the article links of a listing page in the order they appear in its main
content: absolute, cleaned by :func:`feeder.urls.clean_url` (no fragment, no tracking parameters)
and unique. With ``source.link_selector`` the selector decides; otherwise the rules below do.

Automatic discovery is generic, it never names a site. A link counts when:

1. it is not inside page furniture: ``<nav>``, ``<aside>``, ``<form>``, the page's own
   ``<header>`` / ``<footer>`` (an ``<article>``'s header is kept), elements whose class, id or role
   say menu, navigation, sidebar, footer, breadcrumb, tags, pagination, share, ads, widget, "most
   read" or "related", and boxes headed "Đọc nhiều", "Xem nhiều", "Tin liên quan", "Most read", ...
   A sidebar often repeats a main-list article; since the sidebar is skipped, the article keeps its
   main-list position;
2. it stays on the listing's site and is not a category, tag, topic, pagination, search, author,
   contact, feed or media URL;
3. its URL looks like an article: a numeric id or date in the path, a long hyphenated slug, a
   ``.html``-like page, or a long anchor text (a headline).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qsl, urlsplit

from bs4 import BeautifulSoup, Tag

from feeder.config import Source
from feeder.model import ArticleLink, Page
from feeder.urls import clean_url, same_site, try_clean_url

__all__ = ["is_article_url", "links"]

# Class / id tokens that mark page furniture. Matched against whole tokens of the attribute split
# on spaces, '-' and '_' (so "main-menu" and "menu_top" match "menu", "menuitem" does not).
_FURNITURE_TOKENS = frozenset({
    "nav", "navbar", "navigation", "menu", "menubar", "submenu", "megamenu", "breadcrumb",
    "breadcrumbs", "sidebar", "aside", "footer", "topbar", "masthead",
    "pagination", "pager", "paging", "tags", "tag", "tagcloud", "keywords", "share", "social",
    "sharing", "ads", "ad", "advert", "advertisement", "sponsor", "sponsored",
    "promo", "qc", "quangcao", "popular", "mostread", "mostviewed", "trending", "related",
    "lienquan", "docnhieu", "xemnhieu", "comment", "comments", "login", "search", "weather",
    "copyright", "hotline", "contact",
})
# Multi-token phrases for the same purpose, matched on the joined class / id value.
_FURNITURE_PHRASES = ("most-read", "most_read", "most-viewed", "doc-nhieu", "xem-nhieu",
                      "tin-lien-quan", "lien-quan", "quang-cao", "site-header", "page-header",
                      "top-header", "header-top", "main-header", "site-footer")
_FURNITURE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search",
                              "menu", "menubar"})
_FURNITURE_TAGS = frozenset({"nav", "aside", "form", "script", "style", "noscript", "template",
                             "iframe", "select", "button"})
# Headings of boxes that list other articles than the listing's own (Vietnamese and English).
_BOX_HEADING_RE = re.compile(
    r"^\s*(đọc nhiều|xem nhiều|tin đọc nhiều|tin xem nhiều|được quan tâm|quan tâm nhiều|"
    r"tin liên quan|bài liên quan|tin cùng chuyên mục|tin khác|tin mới cập nhật|"
    r"most read|most popular|most viewed|popular|trending|related( articles| stories)?|"
    r"read more|you may also like)\b", re.IGNORECASE)

# Path segments that name a listing, not an article.
_LISTING_SEGMENTS = frozenset({
    "tag", "tags", "tu-khoa", "tukhoa", "chu-de", "chude", "topic", "topics", "category",
    "categories", "danh-muc", "chuyen-muc", "chuyenmuc", "section", "author", "authors",
    "tac-gia", "tacgia", "page", "trang", "search", "tim-kiem", "timkiem", "login", "dang-nhap",
    "register", "dang-ky", "rss", "feed", "feeds", "lien-he", "contact", "gioi-thieu", "about",
    "video", "videos", "podcast", "podcasts", "photo", "anh", "multimedia", "e-paper", "epaper",
    "bao-in", "quang-cao", "advertising", "sitemap", "privacy", "terms", "cdn-cgi", "wp-admin",
    "wp-login.php", "wp-json",
})
_LISTING_LEAF_RE = re.compile(
    r"^(index|default|home|trang-chu|trang-\d+|page-?\d+|p\d+|lien-he|gioi-thieu|contact|about)"
    r"(\.\w+)?$", re.IGNORECASE)
_PAGINATION_PARAMS = frozenset({"page", "p", "trang", "pg", "paged", "start", "offset"})
_MEDIA_EXT_RE = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|bmp|pdf|docx?|xlsx?|pptx?|zip|rar|7z|mp3|mp4|m4a|webm|avi|"
    r"xml|rss|atom|json|js|css|txt)$", re.IGNORECASE)
_PAGE_EXT_RE = re.compile(r"\.(s?html?|php|aspx?|jsp|cms)$", re.IGNORECASE)
_ID_RE = re.compile(r"\d{4,}")
_DATE_PATH_RE = re.compile(r"/(19|20)\d\d/[01]?\d(/[0-3]?\d)?/")
_WORD_SPLIT_RE = re.compile(r"[-_+.]+")


def links(page: Page, source: Source) -> tuple[ArticleLink, ...]:
    """The article links of a listing page, in order of appearance, absolute, clean and unique.

    ``source.link_selector`` (a CSS selector) picks the links when set: it may select ``<a>``
    elements or containers (the first ``<a href>`` inside counts); only the URL hygiene applies
    then. Otherwise automatic discovery (see the module docstring). The text of each link is the
    first anchor text found for its URL, whitespace-collapsed; else a ``title`` or image ``alt``;
    else ``None``.
    """
    soup = BeautifulSoup(page.text, "lxml")
    base = _base_url(soup, page.final_url or page.url)
    if source.link_selector:
        anchors = _selected_anchors(soup, source.link_selector)
        return _collect((a, url) for a in anchors
                        if (url := try_clean_url(str(a.get("href")), base)))
    sites = [base, page.final_url or page.url, *source.urls]
    here = {clean_url(u) for u in (page.url, page.final_url) if u}

    def wanted() -> Iterator[tuple[Tag, str]]:
        for a in _content_anchors(soup):
            url = try_clean_url(str(a.get("href")), base)
            if url is None or url in here or not any(same_site(url, s) for s in sites):
                continue
            if is_article_url(url, _anchor_text(a)):
                yield a, url

    return _collect(wanted())


def is_article_url(url: str, text: str | None = None) -> bool:
    """True when ``url`` (with its anchor ``text``) looks like an article rather than a listing.

    Generic evidence only: a numeric id or a date in the path, a long hyphenated slug, a page
    extension on a slug, a headline-length anchor text.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    path = parts.path
    segments = [s for s in path.split("/") if s]
    if not segments or _MEDIA_EXT_RE.search(path):
        return False
    if any(s.lower() in _LISTING_SEGMENTS for s in segments):
        return False
    leaf = segments[-1]
    if _LISTING_LEAF_RE.match(leaf):
        return False
    query = parse_qsl(parts.query)
    if any(k.lower() in _PAGINATION_PARAMS for k, _ in query):
        return False
    stem = _PAGE_EXT_RE.sub("", leaf)
    words = [w for w in _WORD_SPLIT_RE.split(stem) if w]
    alpha_words = [w for w in words if not w.isdigit()]
    # "?id=12345", "?newsid=12345": dynamic pages name their article in the query.
    query_id = any(k.lower().endswith("id") and _ID_RE.fullmatch(v) for k, v in query)
    has_id = bool(_ID_RE.search(stem)) or query_id
    score = 0
    if has_id or _DATE_PATH_RE.search(path + "/"):
        score += 2
    if len(alpha_words) >= 5:
        score += 2
    elif len(alpha_words) >= 3:
        score += 1
    if _PAGE_EXT_RE.search(leaf) and alpha_words:
        score += 1
    if text and (len(text) >= 30 or len(text.split()) >= 6):
        score += 1
    # A single short segment ("/thoi-su/") is a section even with a long anchor text.
    if len(segments) == 1 and len(alpha_words) <= 2 and not has_id:
        return False
    return score >= 2


# -- helpers --------------------------------------------------------------------------------

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


def _content_anchors(soup: BeautifulSoup) -> Iterator[Tag]:
    """``<a href>`` elements outside page furniture, in document order."""
    furniture: dict[int, bool] = {}  # memo by element id: each ancestor is judged once
    for string in soup.find_all(string=_BOX_HEADING_RE):
        heading = string.parent
        if isinstance(heading, Tag) and _is_box_heading(heading):
            box = _box_of(heading)
            if box is not None:
                furniture[id(box)] = True

    def is_furniture(el: Tag) -> bool:
        key = id(el)
        if key not in furniture:
            furniture[key] = _is_furniture(el)
        return furniture[key]

    for a in soup.find_all("a", href=True):
        href = str(a["href"]).strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        if "sponsored" in (a.get("rel") or []):
            continue
        if not any(is_furniture(el) for el in a.parents):
            yield a


def _is_box_heading(el: Tag) -> bool:
    # Short text only: "Đọc nhiều" as a box title, not a paragraph that mentions it.
    if el.name in ("a", "body", "html", "[document]"):
        return False
    text = el.get_text(" ", strip=True)
    return 0 < len(text) <= 40 and bool(_BOX_HEADING_RE.match(text))


def _box_of(heading: Tag) -> Tag | None:
    """The nearest ancestor of a box heading that holds links besides the heading's own."""
    own = set(map(id, heading.find_all("a")))
    node: Tag | None = heading.parent
    for _ in range(4):
        if node is None or node.name in ("body", "html", "main", "[document]"):
            return None
        if any(id(a) not in own for a in node.find_all("a", href=True)):
            return node
        node = node.parent
    return None


def _is_furniture(el: Tag) -> bool:
    name = el.name
    if name in _FURNITURE_TAGS:
        return True
    if name in ("header", "footer"):
        # An <article>'s own header/footer belongs to the teaser.
        return el.find_parent("article") is None
    if el.get("role") in _FURNITURE_ROLES:
        return True
    if el.get("aria-hidden") == "true" or el.has_attr("hidden"):
        return False  # hidden duplicates are harmless; judge their ancestors instead
    values = [str(el.get("id") or "")]
    cls = el.get("class")
    if cls:
        values.extend(cls if isinstance(cls, list) else [str(cls)])
    for value in values:
        if not value:
            continue
        low = value.lower()
        if any(p in low for p in _FURNITURE_PHRASES):
            return True
        if any(t in _FURNITURE_TOKENS for t in re.split(r"[\s_-]+", low)):
            return True
    return False

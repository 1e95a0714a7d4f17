"""Does a URL look like an article, and is it on the listing's site? Pure URL decisions.

Generic evidence only, never a site's own pattern: a numeric or opaque id, a date in the path, a
long hyphenated slug, a page extension on a slug, a headline-length anchor text; against it, path
segments and leaves that name listings, pagination parameters and media files.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from feeder.urls import host_of, literal_ip

__all__ = ["ARTICLE", "WEAK", "article_score", "has_story_id", "headline_slug", "headline_text",
           "is_article_url", "other_section", "same_site_family", "site_of", "url_folder"]

# Path segments that name a listing or a service page, never an article.
_LISTING_SEGMENTS = frozenset({
    "tag", "tags", "tu-khoa", "tukhoa", "chu-de", "chude", "topic", "topics", "category",
    "categories", "danh-muc", "chuyen-muc", "chuyenmuc", "section", "author", "authors",
    "tac-gia", "tacgia", "page", "trang", "search", "tim-kiem", "timkiem", "login", "dang-nhap",
    "register", "dang-ky", "rss", "feed", "feeds", "lien-he", "contact", "gioi-thieu", "about",
    "e-paper", "epaper", "bao-in", "quang-cao", "advertising", "sitemap", "privacy", "terms",
    "cdn-cgi", "wp-admin", "wp-login.php", "wp-json", "subscribe", "newsletter", "newsletters",
    "account", "signin", "sign-in", "profile", "shop",
})
# Segments that name a media listing: an article below them still needs its own id or slug.
_MEDIA_SEGMENTS = frozenset({"video", "videos", "podcast", "podcasts", "photo", "photos", "anh",
                             "multimedia", "gallery", "galleries"})
_LISTING_LEAF_RE = re.compile(
    r"^(index|default|home|trang-chu|trang-\d+|page-?\d+|p\d+|lien-he|gioi-thieu|contact|about)"
    r"(\.\w+)?$", re.IGNORECASE)
_INDEX_LEAF_RE = re.compile(r"^(index|default)(\.\w+)?$", re.IGNORECASE)
_PAGINATION_PARAMS = frozenset({"page", "p", "trang", "pg", "paged", "start", "offset"})
_MEDIA_EXT_RE = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|bmp|pdf|docx?|xlsx?|pptx?|zip|rar|7z|mp3|mp4|m4a|webm|avi|"
    r"xml|rss|atom|json|js|css|txt)$", re.IGNORECASE)
_PAGE_EXT_RE = re.compile(r"\.(s?html?|php|aspx?|jsp|cms)$", re.IGNORECASE)
_ID_RE = re.compile(r"\d{4,}")
_DATE_PATH_RE = re.compile(
    r"/(19|20)\d\d/([01]?\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(/[0-3]?\d)?/",
    re.IGNORECASE)
_WORD_SPLIT_RE = re.compile(r"[-_+.,]+")
# A page number is small; "?p=128314" is a post id (WordPress), not page 128,314.
_MAX_PAGE_NUMBER = 1000
# Second-level labels under which a country code's registrations sit ("co.uk", "com.vn").
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go",
                           "gob", "nic", "info", "biz", "health", "int", "mil", "web"})


def site_of(url: str) -> str:
    """The registrable domain of ``url``'s host ("news.bbc.co.uk" -> "bbc.co.uk").

    A heuristic without the Public Suffix List: a country-code top-level domain with a common
    second-level label keeps three labels, anything else two.
    """
    labels = host_of(url).split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site_family(url: str, other: str) -> bool:
    """True when both URLs are on one registrable domain: a portal's sections often live on
    subdomains (news.example.com, sport.example.com) of the home page's host. An address
    (``http://[::1]:8080/``) has no domain: only the same address counts."""
    host = host_of(url)
    if literal_ip(host) is not None:
        return host != "" and host == host_of(other)
    site = site_of(url)
    return site != "" and "." in site and site == site_of(other)


def _opaque_id(segment: str) -> bool:
    """"c9wnex8g5dyo", "ASN9M05ZGN9LUTIL025", "idJPKBN26A03L": a machine id, not a word."""
    token = _WORD_SPLIT_RE.split(segment)[-1] if segment else ""
    return (len(token) >= 8 and sum(c.isdigit() for c in token) >= 2
            and any(c.isalpha() for c in token) and token.isalnum())


def _big_number(value: str) -> bool:
    return value.isdigit() and int(value) >= _MAX_PAGE_NUMBER


def is_article_url(url: str, text: str | None = None) -> bool:
    """True when ``url`` (with its anchor ``text``) looks like an article rather than a listing."""
    return article_score(url, text) >= ARTICLE


# article_score: at least ARTICLE says article on its own; WEAK is an article when other articles
# of the page share its URL's folder (see url_folder); below WEAK never.
ARTICLE, WEAK = 2, 1


def url_folder(url: str) -> str:
    """Host and path without the last segment: "/news/Wine-11.4-Released" -> "host/news/"."""
    parts = urlsplit(url)
    return (parts.hostname or "") + parts.path.rsplit("/", 1)[0] + "/"


def article_score(url: str, text: str | None = None) -> int:
    """How much ``url`` and its anchor ``text`` look like an article: 0 (listing, media, other)
    up to 6; see ARTICLE and WEAK."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return 0
    path = unquote(parts.path)
    query = parse_qsl(parts.query)
    if any(k.lower() in _PAGINATION_PARAMS and not _big_number(v) for k, v in query):
        return 0
    query_id = _query_id(query)
    segments = [s for s in path.split("/") if s]
    if not segments:
        return ARTICLE if query_id else 0  # "/?p=128314"
    if _MEDIA_EXT_RE.search(path):
        return 0
    if any(s.lower() in _LISTING_SEGMENTS for s in segments):
        return 0
    leaf = segments[-1]
    if _INDEX_LEAF_RE.match(leaf) and len(segments) > 1:
        # ".../2014/07/24/some-story/index.html": the story is the folder.
        segments = segments[:-1]
        leaf = segments[-1]
    elif _LISTING_LEAF_RE.match(leaf):
        return 0
    # The slug is the leaf, or the folder before an id leaf (".../long-headline-slug/pjfesq4").
    slug = max((_PAGE_EXT_RE.sub("", s) for s in segments[-2:]),
               key=lambda s: len(_WORD_SPLIT_RE.split(s)))
    alpha_words = _alpha_words(slug)
    identified = _identified(path, query_id, segments)
    if segments[-1].lower() in _MEDIA_SEGMENTS:
        return 0
    score = 0
    if identified:
        score += 2
    if len(alpha_words) >= 5:
        score += 2
    elif len(alpha_words) >= 3:
        score += 1
    if _PAGE_EXT_RE.search(leaf) and alpha_words:
        score += 1
    if headline_text(text):
        score += 1
    # A single short segment ("/thoi-su/") is a section even with a long anchor text.
    if len(segments) == 1 and len(alpha_words) <= 2 and not identified:
        return 0
    return score


def headline_text(text: str | None) -> bool:
    """True when an anchor text is as long as a headline, not a section's or a button's name."""
    return text is not None and (len(text) >= 30 or len(text.split()) >= 6)


def headline_slug(url: str) -> bool:
    """True when ``url``'s slug has the five words or more of a headline."""
    segments = _story_segments(unquote(urlsplit(url).path))
    return any(len(_alpha_words(_PAGE_EXT_RE.sub("", s))) >= 5 for s in segments[-2:])


def _alpha_words(slug: str) -> list[str]:
    """The words of a slug that are not numbers."""
    return [w for w in _WORD_SPLIT_RE.split(slug) if w and not w.isdigit()]


def _story_segments(path: str) -> list[str]:
    """The segments of a URL path, an index leaf under a story's folder left out
    (".../some-story/index.html": the story is the folder)."""
    segments = [s for s in path.split("/") if s]
    if len(segments) > 1 and _INDEX_LEAF_RE.match(segments[-1]):
        segments = segments[:-1]
    return segments


def _query_id(query: list[tuple[str, str]]) -> bool:
    """"?id=12345", "?newsid=12345", "?p=128314": dynamic pages name their article in the query."""
    return any((k.lower().endswith("id") or len(k) == 1) and _ID_RE.fullmatch(v) for k, v in query)


def _identified(path: str, query_id: bool, segments: list[str]) -> bool:
    """A story's id or date: in the leaf, in the query, in a folder before the slug
    ("/story/2000108147290/slug"), or a date in the path."""
    stem = _PAGE_EXT_RE.sub("", segments[-1]) if segments else ""
    return (query_id or bool(_ID_RE.search(stem)) or _opaque_id(stem)
            or any(s.isdigit() and len(s) >= 5 for s in segments[:-1])
            or bool(_DATE_PATH_RE.search(path + "/")))


def has_story_id(url: str) -> bool:
    """True when ``url`` names a story by an id or a date, not by its slug alone."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    return _identified(path, _query_id(parse_qsl(parts.query)), _story_segments(path))


def _section_path(url: str) -> str | None:
    """A listing URL's section as a lower-cased path without an index leaf or page extension
    ("/kinh-doanh.htm" -> "/kinh-doanh"); ``None`` for a site's home page ("/", "/home/index.do"),
    for a URL with a story's id or date, and for one that names its section in the query
    ("news.php?cat=155"): its path says nothing of where it stands."""
    parts = urlsplit(url)
    path = unquote(parts.path).lower()
    if parts.query or _DATE_PATH_RE.search(path + "/") or _ID_RE.search(path):
        return None
    segments = [_PAGE_EXT_RE.sub("", s) for s in path.split("/") if s]
    if all(_LISTING_LEAF_RE.match(s) for s in segments):
        return None
    return "/" + "/".join(segments)


def other_section(url: str, page_url: str) -> bool:
    """True when ``url`` names a section of the listing's site beside the listing's own, at
    its level ("/hub/space" beside "/hub/science", "/the-thao" beside "/kinh-doanh"). Never on
    a home page, whose blocks are all other sections; never for a section above or below the
    listing's, nor a topic page elsewhere on the site, which may well gather the listing's own
    stories."""
    page = _section_path(page_url)
    own = _section_path(url)
    if page is None or own is None or not same_site_family(url, page_url):
        return False
    return own != page and own.rsplit("/", 1)[0] == page.rsplit("/", 1)[0]

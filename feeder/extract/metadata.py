"""Structured metadata of a page: JSON-LD (with ``@graph``), OpenGraph, ``article:*``, meta names,
microdata and ``<time>``; read once from the parsed tree.

Each field keeps a list of ``(value, provenance)`` candidates, strongest evidence first, so that the
caller can cross-check them against the visible page (a headline that matches the h1, a time that
the dateline confirms) and record where the chosen value came from.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import html as lxml_html

from feeder.extract.content import text_of

# Schema.org types that describe the article itself (rather than the site or a breadcrumb).
_ARTICLE_TYPES = {
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle",
    "opinionnewsarticle", "backgroundnewsarticle", "reviewnewsarticle", "liveblogposting",
    "socialmediaposting", "scholarlyarticle", "techarticle", "report", "review", "posting",
    "advertisertcontentarticle", "satiricalarticle", "medicalwebpage", "recipe", "howto",
}
_PAGE_TYPES = {"webpage", "itempage", "aboutpage", "faqpage", "qapage", "collectionpage"}


@dataclass(slots=True)
class Metadata:
    """Candidates per field, strongest first, each with where it came from."""

    titles: list[tuple[str, str]] = field(default_factory=list)
    authors: list[tuple[list[str], str]] = field(default_factory=list)
    published: list[tuple[str, str]] = field(default_factory=list)
    updated: list[tuple[str, str]] = field(default_factory=list)
    descriptions: list[tuple[str, str]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    site_names: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    language: str | None = None
    locale: str | None = None  # og:locale ("en_US"), which may say more than <html lang="en">
    canonical: str | None = None
    doc_title: str | None = None
    news: bool = False  # JSON-LD says NewsArticle (or a subtype): a newsroom's curated headline
    body_hint: str | None = None  # JSON-LD articleBody, for a sanity check of the content


_ENTITY_RE = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+\d*);", re.IGNORECASE)


def unescape(value: str) -> str:
    """Undo HTML escaping left in JSON-LD strings and doubly escaped meta values ("&amp;")."""
    # Some sites escape twice ("Chi&amp;#7871;n"): undo each layer, a bounded number of times.
    for _ in range(3):
        if "&" not in value or not _ENTITY_RE.search(value):
            break
        value = html.unescape(value)
    return value


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = unescape(value).strip()
        return value or None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        for v in value:
            t = _text(v)
            if t:
                return t
    if isinstance(value, dict):
        return _text(value.get("@value") or value.get("name") or value.get("url"))
    return None


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type")
    if isinstance(t, str):
        return {t.lower().rsplit("/", 1)[-1]}
    if isinstance(t, list):
        return {str(x).lower().rsplit("/", 1)[-1] for x in t}
    return set()


def _walk(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _walk(item)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _walk(graph)
        main = data.get("mainEntity")
        if isinstance(main, (dict, list)):
            yield from _walk(main)


def _load_json(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith("<!--"):
        raw = raw.strip("<!->/ \n")
    raw = raw.replace("<![CDATA[", "").replace("]]>", "")
    try:
        return json.loads(raw)
    except ValueError:
        # Raw line breaks and tabs inside strings are common in hand-written JSON-LD. (Characters
        # XML cannot hold are gone already: feeder.extract.core.parse made the page XML-safe.)
        try:
            return json.loads(raw, strict=False)
        except ValueError:
            return None


def ld_person_names(value: Any, by_id: dict[str, dict[str, Any]]) -> list[str]:
    """Names of the authors in a JSON-LD ``author`` value (persons before organisations)."""
    people: list[str] = []
    orgs: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict) and "@id" in item and "name" not in item:
            item = by_id.get(item["@id"], item)
        if isinstance(item, str):
            people.append(unescape(item))
        elif isinstance(item, dict):
            name = _text(item.get("name"))
            if not name:
                continue
            (orgs if "organization" in _types(item) or "newsmediaorganization" in _types(item)
             else people).append(name)
    # Organisations credited as authors ("AFP", the newspaper's desk) are kept after persons:
    # the page names them as authors, and a feed reader shows what the page says.
    return people + [o for o in orgs if o not in people]


def read(tree: lxml_html.HtmlElement) -> Metadata:
    """All metadata candidates of a page."""
    meta = Metadata()
    head_title = tree.find(".//title")
    if head_title is not None and head_title.text:
        # Entities a site escaped twice ("Chi&amp;#7871;n") read as the meta tags' do.
        meta.doc_title = " ".join(unescape(head_title.text).split())
    lang = tree.get("lang") or tree.get("xml:lang")
    props: dict[str, list[str]] = {}
    for el in tree.iter("meta", "link", "script"):
        tag = el.tag
        if tag == "meta":
            key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
            content = el.get("content")
            if key and content and content.strip():
                props.setdefault(key, []).append(" ".join(unescape(content).split()))
            elif el.get("http-equiv", "").lower() == "content-language" and el.get("content"):
                lang = lang or el.get("content")
        elif tag == "link":
            if (el.get("rel") or "").lower() == "canonical" and el.get("href"):
                meta.canonical = el.get("href").strip()
        elif (el.get("type") or "").lower().strip() == "application/ld+json" and el.text:
            _read_ld(_load_json(el.text), meta)
    meta.locale = next(iter(props.get("og:locale") or []), None) or None
    meta.language = lang or meta.locale

    def first(*keys: str) -> tuple[str, str] | None:
        for k in keys:
            if props.get(k):
                return props[k][0], k
        return None

    for keys, sink in (
        (("og:title", "twitter:title", "dc.title", "title", "headline", "sailthru.title"),
         meta.titles),
        (("article:published_time", "og:article:published_time", "datepublished",
          "date", "pubdate", "publishdate", "dc.date.issued", "dc.date", "dcterms.created",
          "sailthru.date", "parsely-pub-date", "publish-date", "article.published",
          "date_published", "citation_publication_date", "og:published_time",
          "published_time", "release_date"), meta.published),
        (("article:modified_time", "og:updated_time", "datemodified", "last-modified",
          "dcterms.modified", "article.updated", "og:article:modified_time", "modified_time"),
         meta.updated),
        (("og:description", "description", "twitter:description", "dc.description"),
         meta.descriptions),
    ):
        for k in keys:
            for v in props.get(k, [])[:1]:
                sink.append((v, _label(k)))
    for k in ("author", "article:author", "dc.creator", "sailthru.author", "parsely-author",
              "byl", "cxenseparse:author", "twitter:creator"):
        vals = props.get(k)
        if vals:
            names = [v for v in vals if not v.startswith(("http", "@"))]
            if names:
                meta.authors.append((names, f"meta:{k}"))
    written = _labelled_author(props)
    if written:
        meta.authors.append(([written], "meta:twitter:data"))
    for k in ("og:image", "twitter:image", "og:image:url"):
        meta.images.extend(props.get(k, [])[:1])
    # An app name that repeats the page's own title (CMSs that fill "application-name" with
    # each page's headline) names no site: as a site name it would hide the headline.
    page_titles = {t.casefold() for t, _ in meta.titles} | {(meta.doc_title or "").casefold()}
    for k in ("og:site_name", "application-name", "twitter:site", "al:android:app_name",
              "apple-mobile-web-app-title", "publisher"):
        meta.site_names.extend(v.lstrip("@") for v in props.get(k, [])[:1]
                               if k == "og:site_name" or v.casefold() not in page_titles)
    for k in ("article:section", "article:tag", "keywords", "news_keywords"):
        for v in props.get(k, []):
            meta.categories.extend(c.strip() for c in v.split(",") if c.strip())
    _read_microdata(tree, meta)
    return meta


# A "Written by" label in the twitter:labelN / twitter:dataN pairs that SEO plugins write (the
# byline Slack and Twitter cards show), also as "twitter:misc:Written by".
_WRITTEN_BY_RE = re.compile(r"^(?:written by|author|autor(?:in)?|geschrieben von|verfasst von|"
                            r"écrit par|escrito por|scritto da|geschreven door)$", re.IGNORECASE)


def _labelled_author(props: dict[str, list[str]]) -> str | None:
    for key, vals in props.items():
        if key.startswith("twitter:misc:") and _WRITTEN_BY_RE.match(key[13:].strip()):
            return vals[0]
    for n in "1234":
        label = (props.get(f"twitter:label{n}") or [""])[0]
        if label and _WRITTEN_BY_RE.match(label.strip()):
            return next(iter(props.get(f"twitter:data{n}") or []), None)
    return None


def _label(key: str) -> str:
    if key.startswith(("og:", "article:")):
        return key
    return f"meta:{key}"


def _rank(found: list[tuple[str, str]], label: str) -> int:
    """Where a JSON-LD value goes: after the article nodes already read (page order), ahead of
    everything else; a page node's value goes last."""
    if label != "json-ld":
        return len(found)
    return sum(1 for _, src in found if src == "json-ld")


def _read_ld(data: Any, meta: Metadata) -> None:
    if data is None:
        return
    nodes = list(_walk(data))
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    articles = [n for n in nodes if _types(n) & _ARTICLE_TYPES]
    if any(t.endswith("newsarticle") for n in articles for t in _types(n)):
        meta.news = True
    pages = [n for n in nodes if _types(n) & _PAGE_TYPES]
    for node, label in [(n, "json-ld") for n in articles] + [(n, "json-ld:page") for n in pages]:
        title = _text(node.get("headline")) or (
            _text(node.get("name")) if label == "json-ld" else None)
        if title:
            meta.titles.insert(sum(1 for _, s in meta.titles if s == "json-ld"), (title, label))
        author = node.get("author") or node.get("creator")
        if author:
            names = ld_person_names(author, by_id)
            if names:
                # Article nodes first (in page order), then page nodes, then meta tags.
                ranks = ("json-ld",) if label == "json-ld" else ("json-ld", "json-ld:page")
                meta.authors.insert(sum(1 for _, s in meta.authors if s in ranks), (names, label))
        # Article nodes first, in page order; page nodes after them.
        pub = _text(node.get("datePublished")) or _text(node.get("dateCreated"))
        if pub:
            meta.published.insert(_rank(meta.published, label), (pub, label))
        mod = _text(node.get("dateModified"))
        if mod:
            meta.updated.insert(_rank(meta.updated, label), (mod, label))
        desc = _text(node.get("description"))
        if desc and label == "json-ld":
            meta.descriptions.append((desc, label))
        img = node.get("image") or node.get("thumbnailUrl")
        img_url = _text(img.get("url") if isinstance(img, dict) else img)
        if img_url and label == "json-ld":
            meta.images.append(img_url)
        body = node.get("articleBody")
        if isinstance(body, str) and label == "json-ld" and not meta.body_hint:
            meta.body_hint = body
        section = node.get("articleSection")
        if isinstance(section, str):
            meta.categories.append(section)
        elif isinstance(section, list):
            meta.categories.extend(s for s in section if isinstance(s, str))
        lang = _text(node.get("inLanguage"))
        if lang and not meta.language:
            meta.language = lang
    for n in nodes:
        if _types(n) & {"website", "organization", "newsmediaorganization"}:
            name = _text(n.get("name"))
            if name:
                meta.site_names.append(name)


def _read_microdata(tree: lxml_html.HtmlElement, meta: Metadata) -> None:
    for el in tree.xpath('//*[@itemprop="datePublished" or @itemprop="dateModified" '
                         'or @itemprop="headline" or @itemprop="author"][not(self::meta)]'):
        prop = el.get("itemprop")
        if prop == "headline":
            t = " ".join(text_of(el).split())
            if t:
                meta.titles.append((t, "microdata"))
        elif prop == "author":
            name_el = el.find('.//*[@itemprop="name"]')
            src = name_el if name_el is not None else el
            name = (src.get("content") or " ".join(text_of(src).split())).strip()
            if name:
                meta.authors.append(([name], "microdata"))
        else:
            value = el.get("datetime") or el.get("content") or text_of(el)
            sink = meta.published if prop == "datePublished" else meta.updated
            if value and value.strip():
                sink.append((value.strip(), "microdata"))

"""Main content: find the article's container in the parsed tree, then render its blocks.

The container is found the way readability does it: every paragraph gives points to its parent and
grandparent, weighted by its length and commas and punished by link density; class names such as
``article-body`` add evidence and ``share``/``related``/``comment`` remove whole subtrees first.
Rendering walks the container once and emits paragraphs, headings, lists, quotes, tables and
figures; an image followed by a short caption paragraph becomes a ``<figure>`` (issue 3), and
"Ảnh: X" inside a caption is its credit. The HTML is sanitised with nh3 at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from itertools import islice

from lxml import etree
from lxml import html as lxml_html

from feeder.extract import rules
from feeder.extract.byline import credit_line, is_source_credit, lone_name, smart_title
from feeder.model import Image
from feeder.sanitize import sanitize_html
from feeder.urls import absolute_url, same_site, try_clean_url

# Never content.
_DROP_TAGS = {"script", "style", "noscript", "template", "svg", "iframe", "form", "button",
              "select", "input", "textarea", "nav", "footer", "aside", "object", "embed", "canvas",
              "dialog",
              "menu", "link", "meta", "video", "audio", "map",
              # a ruby annotation's reading (furigana) and its fallback brackets: a pronunciation
              # guide over the words, not words of the text
              "rt", "rp"}
_BOILER_RE = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|social|sociales|related|relacionad|recommend|recirc|"
    r"comment|comments|kommentar|binh-luan|binhluan|newsletter|subscribe|subscription|promo|"
    r"advert|advertisement|ads?|adv|banner|sponsor|outbrain|taboola|popular|most-read|trending|"
    r"breadcrumbs?|pagination|pager|navbar|nav|menu|sidebar|footer|masthead|"
    r"cookie|consent|modal|popup|toolbar|tags?|tag-list|keywords|author-bio|authorbox|"
    r"print|login|signup|more-stories|read-more|readmore|see-also|also-read|tin-lien-quan|"
    r"lienquan|tinlienquan|box-tinlienquan|hidden|sr-only|visually-hidden|skip)(?:$|[\s_-])"
    # "widget" names a sidebar box only as a name of its own ("widget", "widget_recent"); page
    # builders call every block "xx-widget-container", the article's text included.
    r"|(?:^|\s)widget(?:$|[\s_-])")
_POSITIVE_RE = re.compile(
    r"article[-_]?body|articlebody|article[-_]?content|article[-_]?text|entry[-_]?content|"
    r"post[-_]?content|post[-_]?body|story[-_]?body|story[-_]?content|content[-_]?detail|"
    r"detail[-_]?content|body[-_]?text|main[-_]?content|news[-_]?content|rich[-_]?text|"
    r"text[-_]?content|fck_detail|article__body|article__content|content-body|the-content|"
    r"chi-tiet|noi-dung|noidung|detail__content|detail-body|singular-content|cms-body")
_CAPTION_CLASS_RE = re.compile(r"caption|desc|legend|chu-thich|chuthich|image-note|photo-note|"
                               r"img-note|credit|note")
_CREDIT_RE = re.compile(r"\(?\s*(?:Ảnh|Photo|Foto|Image|Bild|Crédit|Credit|Photograph|Picture)"
                        r"\s*(?::|by)\s*([^()]{2,80}?)\s*\)?\s*\.?\s*$", re.IGNORECASE)
# Tail credit without a label, e.g. "… bei der Demo. (Bild: dpa)" is handled above; this one is
# for "Caption text © Agency".
_COPY_RE = re.compile(r"\s*(?:©|\(c\)|Copyright)\s*([^©]{2,80})$", re.IGNORECASE)

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "div", "section", "article", "main", "ul", "ol", "li", "table", "tbody", "thead",
           "tr", "td", "th", "blockquote", "pre", "figure", "figcaption", "header", "dl", "dt",
           "dd", "center", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address", "details",
           "summary", "picture"}
_INLINE_KEEP = {"a", "b", "strong", "i", "em", "u", "sup", "sub", "br", "small", "mark", "q",
                "cite", "abbr", "code", "s", "del", "ins", "time", "span", "font"}
_LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-lazy", "data-url",
               "data-srcset", "data-original-src", "data-hi-res-src", "data-full-src", "data-img",
               "data-image", "lazy-src")
_PLACEHOLDER_RE = re.compile(r"^data:|blank|spacer|placeholder|pixel|transparent|grey\.gif|"
                             r"lazy|loading", re.IGNORECASE)
_WORD_RE = re.compile(r"\w")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none")
# Names that are never the article, however much text they hold (consent managers, dialogs).
_STRONG_BOILER_RE = re.compile(r"cookie|consent|gdpr|onetrust|didomi|privacy-?(?:center|manager)|"
                               r"(?:^|[\s_-])(?:modal|popup|dialog)(?:$|[\s_-])|"
                               # a reader comments section, named as a whole ("comments-enabled"
                               # on an article wrapper is a state, not a section)
                               r"(?:^|\s)(?:comments?|comment-?list|comments?-(?:area|section|"
                               r"wrapper|container|box|block|list)|comment-respond|disqus_thread|"
                               r"respond)(?:$|\s)")
_FIGURE_CLASS_RE = re.compile(r"caption|legend|figure|(?:^|[\s_-])(?:image|photo|picture|img)"
                              r"(?:$|[\s_-])")
_CAPTION_ONLY_RE = re.compile(r"caption|legend|(?:^|[\s_-])credits?(?:$|[\s_-])|chu-?thich")
# Short lines of metadata that sit inside the article container.
_META_LINE_RE = re.compile(r"byline|(?:^|[\s_-])(?:author|authors|dateline|timestamp|publish-date|"
                           r"pubdate|post-date|post-meta|entry-meta|article-meta|reading-time|"
                           r"read-time)(?:$|[\s_-])")
_NON_CONTENT_IMG_RE = re.compile(r"logo|icon|avatar|sprite|emoji|badge|button|tracking|pixel|"
                                 r"\.svg(?:$|\?)", re.IGNORECASE)


def text_of(el: etree._Element) -> str:
    """All text under an element (like lxml.html's text_content, on plain etree elements).

    The text serialiser is about twice as fast as XPath ``string()`` and gives the same text.
    """
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


def norm_space(text: str) -> str:
    return " ".join(text.split())


def body_text(text: str) -> str:
    """A line of the body's text: whitespace folded, soft hyphens (line-break hints, not
    letters: "Mit&shy;tel&shy;al&shy;ter") gone, so that the words can be searched."""
    return norm_space(text.replace("\xad", "") if "\xad" in text else text)


def vis_len(text: str) -> int:
    """Number of visible characters: whitespace (source indentation) does not count."""
    return (len(text) - text.count(" ") - text.count("\n") - text.count("\t")
            - text.count("\r") - text.count("\xa0"))


def _attrs(el: etree._Element) -> str:
    """Class and id names, lower-cased: the class-name patterns are matched without IGNORECASE,
    which is several times faster on long utility-class strings."""
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


@lru_cache(maxsize=8192)
def is_boilerplate(attrs: str) -> bool:
    """True when class/id names say share bar, menu, related links ... (cached: names repeat).

    Utility-class frameworks (Tailwind) name layout, not roles: "overflow-hidden" hides nothing,
    "hidden md:block" is shown on desktop; such tokens are set aside first.
    """
    if "label" in attrs:
        # "field-label-hidden" (Drupal) hides a field's label, not the field.
        attrs = _LABEL_HIDDEN_RE.sub(" ", attrs)
    if ":" in attrs or "overflow-" in attrs or "[" in attrs:
        shown = _RESPONSIVE_SHOW_RE.search(attrs) is not None
        attrs = " ".join(t for t in attrs.split() if ":" not in t and "[" not in t
                         and not t.startswith("overflow-") and not (shown and t == "hidden"))
    return bool(_BOILER_RE.search(attrs)) and not _POSITIVE_RE.search(attrs)


_LABEL_HIDDEN_RE = re.compile(r"[\w-]*label[-_](?:hidden|visually-hidden|sr-only)\b")
_RESPONSIVE_SHOW_RE = re.compile(r"(?:^|\s)(?:sm|md|lg|xl|2xl):(?:block|flex|inline|inline-block|"
                                 r"grid|table|contents)(?:$|\s)")


# Never judged by their class names.
_KEEP_TAGS = frozenset(("html", "body", "main", "article", "h1", "figcaption"))


def prune(tree: lxml_html.HtmlElement) -> None:
    """Remove what is never article content: scripts, navigation, share bars, hidden blocks.

    A class name alone ("paywall", "page-banner", "sidebar-1") is weak evidence: some sites put
    such names on the wrapper of the article itself, so a matched element that still holds a long,
    link-poor text is kept.
    """
    # One walk collects both kinds: what is never content (dropped first) and what class names
    # call boilerplate (judged after the first drops, as if the tree were walked again).
    never: list[etree._Element] = []
    doomed: list[etree._Element] = []
    resume: etree._Element | None = None  # the first element after the last dropped subtree
    skipping = False
    for el in tree.iter():
        if skipping:
            if el is not resume:
                continue  # inside a subtree that goes anyway
            skipping = False
        tag = el.tag
        if not isinstance(tag, str) or tag in _DROP_TAGS:  # comments, scripts, navigation
            # ASP.NET pages wrap the whole page in one <form>; an unclosed <button> swallows what
            # follows it: neither is dropped when it holds the paragraphs.
            if tag == "form" and (el.find(".//h1") is not None or el.find(".//main") is not None
                                    ) and rules.applies("form-page-wrapper"):
                pass  # the page's own form wrapper (ASP.NET), text in <div>s rather than <p>s
            elif ((tag in ("nav", "footer", "aside") and _holds_page_body(el)) or (
                    tag == "aside" and _holds_many_paragraphs(el))) \
                    and rules.applies("unclosed-nav-keeps-body"):
                pass  # an unclosed <nav> that swallowed the page's <main> (the parser nests it)
            elif tag == "button" and (el.find(".//figcaption") is not None
                                      or el.find(".//figure") is not None
                                      or (el.find(".//img") is not None
                                          and not text_of(el).strip())) \
                    and rules.applies("button-picture"):
                pass  # a picture that opens a viewer when clicked
            elif tag == "noscript" and _noscript_picture(el) and rules.applies("noscript-picture"):
                pass  # the only real <img> of a lazy-loaded picture
            else:
                never.append(el)
                resume = _after(el)
                skipping = True
                continue
        else:
            items = el.items()  # one call instead of six attribute look-ups
            if not items:
                continue  # no class, no id, nothing hidden
            named = dict(items)
            if "-" in tag and _CUSTOM_IMAGE_RE.search(tag) and "src" in named \
                    and el.find(".//img") is None and rules.applies("custom-image-element"):
                # A web component that draws the picture from its own ``src`` ("amp-img",
                # "x-image"): the picture, read like an <img>.
                el.tag = tag = "img"
            cls, ident = named.get("class"), named.get("id")
            attrs = f"{cls or ''} {ident or ''}".lower() if cls or ident else " "
            # an "aside" that floats a picture beside the text is kept
            if not (tag == "aside" and _FIGURE_CLASS_RE.search(attrs)) and _hidden(
                    named, tag) and not _collapsed_panel(el, named) \
                    and not (named.get("aria-hidden") == "true" and _captioned_figure_picture(el)):
                never.append(el)
                resume = _after(el)
                skipping = True
                continue
            if tag in _KEEP_TAGS:
                continue
            if len(attrs) > 1 and is_boilerplate(attrs):
                doomed.append(el)
            continue
        if tag in _KEEP_TAGS:
            continue
        attrs = _attrs(el)
        if len(attrs) > 1 and is_boilerplate(attrs):
            doomed.append(el)
    for el in never:
        _drop(el)
    headline_boxes = {a for h in tree.iter("h1") for a in h.iterancestors()}
    dropped: set[etree._Element] = set()
    for el in doomed:
        if dropped and any(a in dropped for a in el.iterancestors()):
            continue  # already gone with a box around it
        if _STRONG_BOILER_RE.search(_attrs(el)):
            _drop(el)
            dropped.add(el)
            continue
        text_len = vis_len(text_of(el))
        if text_len > 1200 and _link_density(el, text_len) < 0.3 \
                and rules.applies("long-text-survives-name"):
            continue
        # The headline's own header ("sidebar-grid__header") and a picture with its caption in
        # a "widget" or "footer" wrapper are content, whatever the wrapper is called.
        if el in headline_boxes and rules.applies("headline-box-kept"):
            continue
        if _is_captioned_picture(el, text_len) and rules.applies("captioned-picture-kept"):
            continue
        if el.tag in ("img", "picture") and _captioned_figure_picture(el) \
                and rules.applies("figure-picture-kept"):
            continue  # the picture of a captioned figure, whatever its class names say
        if el.tag == "img" and _declared_large(el) and rules.applies("large-img-kept"):
            continue  # a photo ("img-share": one readers can share), not a share-button icon
        _drop(el)
        dropped.add(el)


_CUSTOM_IMAGE_RE = re.compile(r"-(?:img|image|picture)$")


def _captioned_figure_picture(el: etree._Element) -> bool:
    """``el`` is or holds the picture of a nearby ``<figure>`` with a ``<figcaption>``.

    Such a picture is shown, whatever its class names ("widget-…") or ``aria-hidden`` (set
    because the caption already describes it to screen readers) say.
    """
    if el.tag != "img" and el.find(".//img") is None:
        return False
    node = el.getparent()
    for _ in range(4):
        if node is None:
            return False
        if node.tag == "figure":
            # A figure that frames a quote shows its speaker's face: the quote is the content.
            return node.find(".//figcaption") is not None and node.find(".//blockquote") is None
        node = node.getparent()
    return False


def _declared_large(img: etree._Element) -> bool:
    """An ``<img>`` whose declared size is a photo's (icons and buttons are far smaller; an ad
    banner is flat)."""
    width, height = img.get("width") or "", img.get("height") or ""
    return width.isdigit() and height.isdigit() and int(width) >= 300 and int(height) >= 200 \
        and image_url(img, "https://example.org/") is not None  # not a lazy placeholder


def _collapsed_panel(el: etree._Element, named: dict[str, str]) -> bool:
    """A closed accordion panel (WAI-ARIA: a region labelled by its toggle button) that holds
    paragraphs: the reader opens it with one click, its text is part of the article."""
    return named.get("role") == "region" and "aria-labelledby" in named \
        and _holds_paragraphs(el)


def _hidden(named: dict[str, str], tag: str) -> bool:
    """Hidden from readers (by the element's attributes ``named``): ``hidden``, ``aria-hidden``,
    a dialog, ``display: none``."""
    if "hidden" in named and tag not in ("html", "body"):
        return True
    # aria-hidden only hides from screen readers; sites set it on visible captions that repeat
    # the image's alt text.
    if named.get("aria-hidden") == "true" and tag not in ("html", "body", "figure", "figcaption"):
        return True
    if named.get("role") in ("dialog", "alertdialog") or named.get("aria-modal") == "true":
        return True
    style = named.get("style")
    return bool(style and "none" in style and _HIDDEN_STYLE_RE.search(style))


def _holds_many_paragraphs(el: etree._Element) -> bool:
    """Five long paragraphs: an article's text (an unclosed <aside> swallowed it), not a box."""
    return sum(1 for p in islice((p for p in el.iter("p") if vis_len(text_of(p)) > 120), 5)) >= 5


def _holds_page_body(el: etree._Element) -> bool:
    """The element wraps the page's main region: a ``<main>``, or the headline with paragraphs."""
    if el.find(".//main") is not None:
        return True
    return el.find(".//h1") is not None and _holds_paragraphs(el)


def _after(el: etree._Element) -> etree._Element | None:
    """The node that follows ``el``'s subtree in document order (None at the end)."""
    node: etree._Element | None = el
    while node is not None:
        nxt = node.getnext()
        if nxt is not None:
            return nxt
        node = node.getparent()
    return None


def _is_captioned_picture(el: etree._Element, text_len: int) -> bool:
    if text_len > 600:
        return False
    if el.tag in ("figure", "figcaption") or _FIGURE_CLASS_RE.search(_attrs(el)):
        return _link_density(el, text_len) <= 0.5
    if el.find(".//figcaption") is None:
        return False
    if len(list(islice(el.iter("img", "picture", "figcaption"), 4))) > 3:
        return False  # a gallery or a teaser grid
    return _link_density(el, text_len) <= 0.5


def _noscript_picture(el: etree._Element) -> bool:
    """A <noscript> that holds the picture's only <img> (scripts would insert it otherwise)."""
    img = el.find(".//img")
    if img is None:
        return False
    box = el.getparent()
    if box is not None and box.tag not in ("picture", "figure") and box.getparent() is not None:
        box = box.getparent()
    if box is None:
        return False
    return not any(not is_inside(other, el) for other in box.iter("img"))


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _link_density(el: etree._Element, length: int) -> float:
    if not length:
        return 1.0
    linked = sum(vis_len(text_of(a)) for a in el.iter("a"))
    return min(1.0, linked / length)


def find_main(tree: lxml_html.HtmlElement) -> etree._Element | None:
    """The element that holds the article's paragraphs (after :func:`prune`).

    Readability-style local scores pick a few candidates; then, among them and their ancestors,
    the container that maximises "paragraph text minus half of the other text" wins, so a body
    split into one wrapper per paragraph is taken whole while a column of teasers is left out.
    Stories appended under the page's own are removed from the tree.
    """
    scores: dict[etree._Element, float] = {}
    para: dict[etree._Element, int] = {}
    # A definition list's descriptions (<dd>) are paragraphs of a glossary or a "types of ..."
    # article; they count for their own text like a <div>.
    for el in tree.iter("p", "pre", "td", "blockquote", "div", "section", "li", "font", "span",
                        "dd"):
        tag = el.tag
        if tag in ("p", "pre", "blockquote"):
            text = text_of(el)
        else:
            # A div/td/span counts only for its own text (Vietnamese CMSs often skip <p>); links
            # and spans count apart.
            text = "".join([el.text or ""] + [c.tail or "" for c in el])
            if len(text.strip()) < 60:
                continue
        length = vis_len(text)
        if length < 22:
            continue
        linked = _link_density(el, length) if tag in ("p", "li", "td", "dd") else 0.0
        if linked > 0.5:
            continue
        score = 1.0 + text.count(",") + text.count("،") + text.count("、") + min(length / 100.0,
                                                                                3.0)
        parent = el.getparent()
        level = 0
        while parent is not None:
            if level < 3:
                scores[parent] = scores.get(parent, 0.0) + score / (1, 2, 3)[level]
            para[parent] = para.get(parent, 0) + length
            parent = parent.getparent()
            level += 1
    if not scores:
        return None
    ranked: list[tuple[float, etree._Element]] = []
    for el, score in scores.items():
        if el.tag in ("html", "body"):
            continue
        attrs = _attrs(el)
        if _POSITIVE_RE.search(attrs):
            score *= 1.5
            score += 25
        ranked.append((score, el))
    if not ranked:
        # The paragraphs sit right in <body> (a bare page): the body is the article.
        return next((el for el in scores if el.tag == "body"), None)
    ranked.sort(key=lambda x: x[0], reverse=True)
    candidates: dict[etree._Element, None] = {}
    for _, el in ranked[:5]:
        node = el
        while node is not None and node.tag not in ("html", "body"):
            candidates[node] = None
            node = node.getparent()
    values: dict[etree._Element, float] = {}
    for el in candidates:
        inside = para.get(el, 0)
        total = vis_len(text_of(el))
        value = inside - 0.5 * max(0, total - inside)
        attrs = _attrs(el)
        if _POSITIVE_RE.search(attrs) or el.get("itemprop") == "articleBody":
            value *= 1.1
        values[el] = value
    best = max(values, key=values.__getitem__)
    # A page wrapper that adds only a few stray paragraphs (a job box, a footer note) to the
    # article's own container is not the article: keep the inner container when it holds
    # most (85%) of the value.
    floor = values[best] * 0.85
    node = best
    improved = True
    while improved:
        improved = False
        for el, value in values.items():
            if value >= floor and el is not node and is_inside(el, node) \
                    and rules.applies("inner-container-85"):
                node, improved = el, True
                break
    # A container of several stories, each an <article> with its headline and its own share of
    # the text (the next story appended under this one as the reader scrolls): the page's story
    # is the first, and the others leave the tree (the body's confidence weighs the text against
    # the page's, which is this story's alone).
    stories = _stories(node, para)
    if len(stories) >= 2 and rules.applies("first-of-several-stories"):
        node = stories[0]
        for other in stories[1:]:
            _drop(other)
    # A container named as the article's body ("article-body", itemprop=articleBody) that holds
    # most of the paragraph text is the article; the rest of a wider wrapper is a side column
    # (newsletter box, most-read list) that readability scores cannot tell from text.
    named = [el for el in values if el is not node and is_inside(el, node)
             and (_POSITIVE_RE.search(_attrs(el)) or el.get("itemprop") == "articleBody")
             and para.get(el, 0) >= 0.6 * para.get(node, 0) and values[el] >= 0.6 * values[node]]
    if named:
        body = max(named, key=values.__getitem__)
        # Two article bodies (the story and the next one under it) are not body and side column.
        if not any(para.get(el, 0) >= 0.2 * para.get(node, 0) and el is not body
                   and not is_inside(el, body) and not is_inside(body, el)
                   and (_POSITIVE_RE.search(_attrs(el)) or el.get("itemprop") == "articleBody")
                   for el in node.iter()) and rules.applies("named-body-inside"):
            node = body
    return node


def _stories(node: etree._Element, para: dict[etree._Element, int]) -> list[etree._Element]:
    """The outermost ``<article>`` elements in ``node`` that each hold a headline and a fifth
    or more of its paragraph text, in document order (teaser cards hold far less)."""
    total = para.get(node, 0)
    out: list[etree._Element] = []
    for el in node.iter("article"):
        if el is node or para.get(el, 0) < 0.2 * total or any(is_inside(el, o) for o in out):
            continue
        if next(el.iter("h1", "h2"), None) is not None:
            out.append(el)
    return out


@lru_cache(maxsize=8192)
def _role(attrs: str) -> str:
    """What class/id names say a block inside the container is: "meta", "caption" or ""."""
    if len(attrs) <= 2:
        return ""
    if _META_LINE_RE.search(attrs):
        return "meta"
    if _CAPTION_ONLY_RE.search(attrs):
        return "caption"
    return ""


def is_inside(el: etree._Element, ancestor: etree._Element) -> bool:
    """True when ``ancestor`` holds ``el`` (at any depth)."""
    return any(anc is ancestor for anc in el.iterancestors())


@dataclass(slots=True)
class Block:
    kind: str  # p, h, li, quote, figure, table, pre
    text: str = ""
    html: str = ""
    image: Image | None = None
    level: int = 2




def image_url(img: etree._Element, base: str) -> str | None:
    """The real URL of an image: lazy-loading attributes and ``srcset`` before a placeholder."""
    candidates: list[str] = []
    for attr in _LAZY_ATTRS:
        v = img.get(attr)
        if v:
            candidates.append(_largest_src(v) if attr.endswith("srcset") else _first_src(v))
    src = img.get("src")
    if src and not _PLACEHOLDER_RE.search(src[:60]):
        candidates.append(src)
    srcset = img.get("srcset") or img.get("data-srcset")
    if srcset:
        candidates.append(_largest_src(srcset))
    parent = img.getparent()
    if parent is not None and parent.tag == "picture":
        for source in parent.iter("source"):
            s = source.get("srcset") or source.get("data-srcset")
            if s:
                candidates.append(_largest_src(s))
    if src and not candidates:
        candidates.append(src)
    for c in candidates:
        c = c.strip()
        if c and not c.startswith("data:") and (resolved := absolute_url(c, base)):
            return resolved
    return None


def _first_src(value: str) -> str:
    return value.strip().split(",")[0].strip().split(" ")[0]


def _largest_src(srcset: str) -> str:
    best, best_w = "", -1.0
    for part in srcset.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        w = 0.0
        if len(bits) > 1:
            try:
                w = float(bits[1].rstrip("wx"))
            except ValueError:
                w = 0.0
        if w > best_w:
            best, best_w = bits[0], w
    return best


def split_credit(caption: str) -> tuple[str | None, str | None]:
    """A caption without its "Ảnh: X" / "Photo: X" credit, and that credit."""
    caption = norm_space(caption)
    m = _CREDIT_RE.search(caption)
    if m is None:
        m = _COPY_RE.search(caption)
    if m is None:
        return caption or None, None
    credit = smart_title(m.group(1).strip(" .()"))  # "Ảnh: BẢO NGỌC" -> "Bảo Ngọc"
    rest = caption[: m.start()].strip(" .-–|") + ("." if caption[: m.start()].rstrip().endswith(
        ".") else "")
    return (rest.strip() or None), (credit or None)


def _is_caption_like(el: etree._Element, text: str) -> bool:
    if not text or len(text) > 400:
        return False
    if _CAPTION_CLASS_RE.search(_attrs(el)):
        return True
    style = (el.get("style") or "").lower().replace(" ", "")
    if ("text-align:center" in style or el.get("align") == "center" or el.tag == "center") \
            and not _centered(el.getnext()):
        # Centred under a picture, unlike the text: a caption. When the next paragraph is
        # centred too, the whole text is set that way and the alignment says nothing.
        return True
    if "italic" in style:
        return True
    # A paragraph that is only emphasis: <p><em>…</em></p>.
    children = list(el)
    if len(children) == 1 and children[0].tag in ("em", "i") and not (el.text or "").strip():
        return len(text) < 300
    # Only bold, and a sentence (a bold line without its full stop is a subheading).
    if len(children) == 1 and children[0].tag in ("b", "strong") and not (el.text or "").strip() \
            and not (children[0].tail or "").strip():
        return len(text) < 200 and text.endswith((".", "!", ")"))
    return bool(_CREDIT_RE.search(text)) and len(text) < 300


def _text_beside_picture(p: etree._Element, text: str) -> bool:
    """The paragraph's text runs on beside its picture (``<p><img>Forty words…</p>``, a
    picture floated into the text): a paragraph of the article, not the picture's caption.
    A caption is set apart: by a line break, or set like one (see :func:`_is_caption_like`)."""
    return len(text) > BESIDE_PICTURE_CHARS and p.find(".//br") is None \
        and not _is_caption_like(p, text)


def _centered(el: etree._Element | None) -> bool:
    """A paragraph set centred (``<p align=center>``, ``text-align: center``)."""
    if el is None or el.tag != "p":
        return False
    style = (el.get("style") or "").lower().replace(" ", "")
    return "text-align:center" in style or el.get("align") == "center"


class _Renderer:
    def __init__(self, base: str) -> None:
        self.base = base
        self.blocks: list[Block] = []
        self.seen_images: set[str] = set()
        self.pending_image: Block | None = None  # an image that may get the next paragraph
        # The element whose children a paragraph came from (by the block's id): its box.
        self.boxes: dict[int, etree._Element | None] = {}

    # -- helpers ---------------------------------------------------------------------------
    def _inline_html(self, el: etree._Element) -> str:
        for a in el.iter("a"):
            href = a.get("href")
            if href:
                resolved = absolute_url(href, self.base)
                if resolved:
                    a.set("href", resolved)
                else:
                    del a.attrib["href"]  # unparseable: the text stays, the link goes
        raw = etree.tostring(el, encoding="unicode", with_tail=False, method="html")
        return raw

    def _emit_text(self, kind: str, text: str, html_inner: str, level: int = 2,
                   box: etree._Element | None = None) -> None:
        text = body_text(text)
        if not text or not _WORD_RE.search(text):
            return  # empty, or only invisible characters and punctuation
        if self.pending_image is not None and kind == "p" and self._caption_ok(text):
            self._attach_caption(self.pending_image, text)
            self.pending_image = None
            return
        self.pending_image = None
        block = Block(kind, text, html_inner, level=level)
        self.boxes[id(block)] = box
        self.blocks.append(block)

    def _caption_ok(self, text: str) -> bool:
        return self._caption_flag and len(text) <= 400

    _caption_flag = False

    def _attach_caption(self, block: Block, text: str) -> None:
        img = block.image
        assert img is not None
        caption, credit = split_credit(text)
        block.image = Image(url=img.url, caption=caption, credit=credit or img.credit, alt=img.alt)

    def _image(self, img: etree._Element, caption: str | None = None) -> Block | None:
        url = image_url(img, self.base)
        if not url or url in self.seen_images or _NON_CONTENT_IMG_RE.search(url):
            return None
        width = img.get("width")
        if width and width.isdigit() and int(width) < 100:
            return None
        self.seen_images.add(url)
        alt = norm_space(img.get("alt") or "") or None
        if not caption:
            caption = described_by(img) or alt_caption(img)
        cap, credit = split_credit(caption) if caption else (None, None)
        block = Block("figure", image=Image(url=url, caption=cap, credit=credit, alt=alt))
        self.blocks.append(block)
        return block

    # -- walking ---------------------------------------------------------------------------
    def walk(self, el: etree._Element) -> None:
        tag = el.tag
        if not isinstance(tag, str):
            return
        role = _role(_attrs(el))
        if role == "meta" and vis_len(text_of(el)) < 120 and rules.applies("meta-role-skipped"):
            return  # a byline, date or reading-time line beside the text, not the text
        if (tag == "figcaption" or role == "caption") \
                and el.find(".//img") is None and vis_len(text_of(el)) < 400:
            # A caption is never body text: it belongs to the picture before it, if any.
            text = norm_space(text_of(el))
            if text and self.pending_image is not None:
                self._attach_caption(self.pending_image, text)
                self.pending_image = None
            return
        if tag in _HEADINGS:
            text = text_of(el)
            if tag != "h1":
                self._emit_text("h", text, "", level=int(tag[1]))
            return
        if tag == "figure" and el.find(".//img") is None:
            # A figure that frames a quote, a table or a code listing: its content is text (its
            # caption is not). A video or an embed without a picture gives nothing.
            done: list[etree._Element] = []
            for child in el.iter("blockquote", "table", "pre"):
                if not any(is_inside(child, d) for d in done):
                    done.append(child)
                    self.walk(child)
            return
        if tag == "figure" or (tag in ("table", "div", "span", "section", "a", "picture")
                               and self._is_image_box(el)):
            img = el.find(".//img")
            if tag != "figure" and img is not None and _teaser_picture(img, self.base) \
                    and rules.applies("teaser-picture"):
                return
            self._figure(el)
            return
        if tag == "img":
            if _teaser_picture(el, self.base) and rules.applies("teaser-picture"):
                return
            self.pending_image = self._image(el)
            self._caption_flag = False
            return
        if tag == "a" and el.get("href") and el.find(".//img") is None \
                and len(norm_space(text_of(el))) < 200 and rules.applies("block-link-skipped"):
            # A link wrapped around blocks ("<a><div>See price at Shop</div></a>", a teaser
            # card) is a button or a teaser: all of it is link text, like a short link run.
            return
        if tag == "p":
            self._paragraph(el)
            return
        if tag in ("ul", "ol", "li") and _holds_paragraphs(el):
            self._container(el)
            return
        if tag in ("ul", "ol"):
            lis = [li for li in el if li.tag == "li"]
            if lis and all(li.find(".//img") is not None for li in lis) \
                    and any(li.find(".//figure") is not None for li in lis) \
                    and rules.applies("gallery-list"):
                # A gallery: one figure per item; the item texts are captions.
                for li in lis:
                    fig = li.find(".//figure")
                    self._figure(fig if fig is not None else li)
                return
            items = [body_text(text_of(li)) for li in lis]
            items = [i for i in items if i]
            if items and _link_density(el, sum(map(vis_len, items))) < 0.5:
                for img in el.iter("img"):
                    self._image(img)
                self.pending_image = None
                self.blocks.append(Block(tag, "\n".join(items),
                                         "".join(f"<li>{escape(i)}</li>" for i in items)))
            return
        if tag == "blockquote":
            text = body_text(text_of(el))
            if text:
                self.pending_image = None
                self.blocks.append(Block("quote", text, escape(text)))
            return
        if tag == "pre":
            text = text_of(el).strip()
            if text:
                self.blocks.append(Block("pre", text, escape(text)))
            return
        if tag == "table":
            self._table(el)
            return
        self._container(el)

    def _paragraph(self, el: etree._Element) -> None:
        imgs = list(el.iter("img"))
        text = text_of(el)
        if imgs:
            for img in imgs:
                blk = self._image(img)
                if blk is not None:
                    self.pending_image = blk
            self._caption_flag = True
            if norm_space(text) and self.pending_image is not None:
                if not (_text_beside_picture(el, norm_space(text))
                        and rules.applies("text-beside-picture")):
                    # Image and its caption in one paragraph: the text is the caption.
                    self._attach_caption(self.pending_image, text)
                    self.pending_image = None
                    return
                self.pending_image = None  # the paragraph is text; the picture has no caption
        ntext = norm_space(text)
        if not ntext:
            return
        if self.pending_image is not None:
            self._caption_flag = _is_caption_like(el, ntext)
        density = _link_density(el, vis_len(ntext))
        if ((len(ntext) < 200 and density > 0.6) or density >= 0.95) \
                and rules.applies("link-paragraph-skipped"):
            return  # a button, or a run of links (tags, topics) however long
        self._emit_text("p", ntext, self._inline_html(el), box=el.getparent())

    def _container(self, el: etree._Element) -> None:
        # Inline runs (text, <a>, <b>, <br> ...) directly in a container form paragraphs; <br><br>
        # splits them, block children are walked on their own.
        buf: list[str] = []
        linked = [0]  # visible characters of link text in buf

        def flush() -> None:
            text = norm_space("".join(buf))
            buf.clear()
            link_chars, linked[0] = linked[0], 0
            if text and ((len(text) < 200 and link_chars > 0.6 * vis_len(text))
                         or link_chars >= 0.95 * vis_len(text)):
                # a button or a link list ("Buy now", "$285 at Shop", a run of topic links),
                # not a paragraph
                return
            if text:
                self._caption_flag = self.pending_image is not None and len(text) < 300 and \
                    _CAPTION_CLASS_RE.search(_attrs(el)) is not None
                self._emit_text("p", text, escape(text), box=el)

        if el.text:
            buf.append(el.text)
        for child in el:
            ctag = child.tag
            if not isinstance(ctag, str):
                if child.tail:
                    buf.append(child.tail)
                continue
            if ctag == "br":
                if buf and (buf[-1] == "\n"):
                    flush()
                else:
                    buf.append("\n")
            elif ctag in _INLINE_KEEP and not _has_block_child(child):
                if ctag == "span" and _role(_attrs(child)) == "caption":
                    flush()
                    self.walk(child)  # a caption, never text
                elif ctag in ("a", "span") and _lightbox_image(child) is not None:
                    # A picture wrapped in a link to its full-size file: the picture, not text.
                    flush()
                    blk = self._image(_lightbox_image(child))
                    if blk is not None:
                        self.pending_image = blk
                else:
                    inline = text_of(child)
                    buf.append(inline)
                    if ctag == "a":
                        linked[0] += vis_len(inline)
                    elif child.find(".//a") is not None:
                        linked[0] += sum(vis_len(text_of(a)) for a in child.iter("a"))
            else:
                flush()
                self.walk(child)
            if child.tail:
                buf.append(child.tail)
        flush()

    def _is_image_box(self, box: etree._Element) -> bool:
        """A layout table or a wrapper holding an image and only a short text (its caption)."""
        imgs = 0
        for _ in box.iter("img"):
            imgs += 1
            if imgs > (3 if box.tag == "table" else 1):
                return False
        if not imgs:
            return False
        text = norm_space(text_of(box))
        if len(text) >= (500 if box.tag == "table" else 400):
            return False
        # The headline's block (headline, standfirst, lead photo) is not a figure.
        if box.find(".//h1") is not None:
            return False
        # Two real paragraphs next to a picture are text, not a caption.
        return sum(1 for p in box.iter("p") if len(text_of(p)) > 80) < 2

    def _figure(self, el: etree._Element) -> None:
        caption, credit = figure_caption(el)
        first = True
        blocks: list[Block] = []
        for img in el.iter("img"):
            blk = self._image(img, caption if first else None)
            if blk is not None and first and credit and blk.image is not None:
                i = blk.image
                blk.image = Image(url=i.url, caption=i.caption, credit=credit, alt=i.alt)
            if blk is not None:
                first = False
                blocks.append(blk)
        # A lone picture the figure (or the box that wraps it) gives no caption may be captioned
        # by the paragraph under it (an emphasised or centred line, a "Ảnh: X" credit: judged
        # like the one under a bare <img>).
        self.pending_image = None
        if len(blocks) == 1 and blocks[0].image is not None \
                and not blocks[0].image.caption and not caption:
            self.pending_image = blocks[0]
            self._caption_flag = False

    def _table(self, el: etree._Element) -> None:
        rows = []
        for tr in el.iter("tr"):
            cells = [body_text(text_of(c)) for c in tr if c.tag in ("td", "th")]
            if any(cells):
                rows.append(cells)
        if not rows:
            return
        # A one-column layout table holds ordinary paragraphs: walk its cells instead.
        if max(len(r) for r in rows) == 1:
            for td in el.iter("td", "th"):
                self._container(td)
            return
        text = "\n".join(" | ".join(r) for r in rows)
        html_rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>"
                            for r in rows)
        self.blocks.append(Block("table", text, f"<table><tbody>{html_rows}</tbody></table>"))


_CREDIT_LABEL_RE = re.compile(r"^\s*\(?\s*(?:Ảnh|Photo|Foto|Image|Bild|Crédit|Credit|Picture|"
                              r"Bildrechte|Quelle|Source)\s*(?::|by)\s*", re.IGNORECASE)
_CREDIT_CLASS_RE = re.compile(r"credit|copyright|source|author|byline|photographer|rights|"
                              r"courtesy|attribution")


def figure_caption(el: etree._Element) -> tuple[str | None, str | None]:
    """Caption and credit of a figure or an image box; a credit element is kept apart."""
    caps = [c for c in el.iter("figcaption", "caption")]
    if not caps:
        caps = [c for c in el.iter("p", "div", "span", "td")
                if c is not el and _CAPTION_CLASS_RE.search(_attrs(c)) and c.find(".//img") is None
                and norm_space(text_of(c))][:1]
    if not caps:
        for cell in el.iter("td", "p", "div", "span"):
            if cell.find(".//img") is None and norm_space(text_of(cell)):
                caps = [cell]
                break
    if not caps:
        return None, None
    credits: list[str] = []
    parts: list[str] = []
    for cap in caps:
        for child in cap.iter():
            if child is cap or not isinstance(child.tag, str):
                continue
            if _CREDIT_CLASS_RE.search(_attrs(child)):
                credits.append(norm_space(text_of(child)))
                child.text = ""
                for sub in child:
                    sub.text = sub.tail = ""
        parts.append(text_of(cap))
    caption, credit = split_credit(" ".join(parts))
    if credits:
        joined = " ".join(c for c in credits if c)
        credit = _CREDIT_LABEL_RE.sub("", joined).strip(" ©()") or credit
    return caption, credit


_FILENAME_RE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)\b|^[\w-]+$|^(?:image|photo|foto|bild|"
                          r"picture|img)\b", re.IGNORECASE)


def alt_caption(img: etree._Element) -> str | None:
    """A picture's own description (``title``, then ``alt``) when it reads like a caption.

    Many CMSs put the editor's caption only there; a file name, a single word or a short label
    ("Photo", "Logo") is not a caption.
    """
    for attr in ("title", "alt"):
        value = norm_space(img.get(attr) or "")
        if len(value) >= 20 and value.count(" ") >= 3 and not _FILENAME_RE.search(value):
            return value
    return None


def described_by(img: etree._Element) -> str | None:
    """The text an image points to with ``aria-describedby`` (an accessible caption)."""
    ids = img.get("aria-describedby")
    if not ids:
        return None
    root = img.getroottree()
    for ident in ids.split():
        found = root.xpath("//*[@id=$i]", i=ident)
        if found:
            text = norm_space(text_of(found[0]))
            if 3 <= len(text) <= 400:
                return text
    return None


def outside_figures(tree: lxml_html.HtmlElement, main: etree._Element | None,
                    base: str) -> list[Image]:
    """Captioned pictures outside the content container (the lead photo above the text).

    Any ``<figure>`` with a ``<figcaption>`` counts; so does a picture in the article's header
    region (the smallest element holding both the headline and the text) whose caption sits in a
    caption element beside it or in its own ``title``/``alt``. Teaser pictures (inside links)
    never do.
    """
    inside = set(main.iter("figure", "img")) if main is not None else set()
    out: list[Image] = []
    seen: set[str] = set()

    def add(img: etree._Element, caption: str | None, credit: str | None) -> None:
        url = image_url(img, base)
        if not url or url in seen or not caption or _NON_CONTENT_IMG_RE.search(url):
            return
        if _READ_ALSO_RE.search(caption) or _TEASER_CAPTION_RE.search(caption) or (
                _VIDEO_CARD_RE.match(caption)):
            return  # a teaser card of another article or video, not this article's picture
        seen.add(url)
        out.append(Image(url=url, caption=caption, credit=credit,
                         alt=norm_space(img.get("alt") or "") or None))

    for fig in tree.iter("figure"):
        if fig in inside or fig.find(".//figcaption") is None or _in_link(fig):
            continue
        img = fig.find(".//img")
        if img is not None:
            add(img, *figure_caption(fig))
        if len(out) >= 8:
            return out
    region = _header_region(tree, main)
    if region is None:
        return out
    lead = 0
    for img in region.iter("img"):
        if img in inside or _in_link(img):
            continue
        width = img.get("width")
        if width and width.isdigit() and int(width) < 100:
            continue
        caption, credit = _caption_beside(img)
        if not caption:
            caption = described_by(img) or alt_caption(img)
            if caption:
                caption, credit = split_credit(caption)
        add(img, caption, credit)
        lead += 1
        if lead >= 3:
            break
    return out


_IMAGE_FILE_RE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif)(?:$|[?#])", re.IGNORECASE)


def _in_link(el: etree._Element) -> bool:
    """Inside a link to another page (a teaser); a link to the image file itself does not count."""
    return any(a.get("href") and not _IMAGE_FILE_RE.search(a.get("href"))
               for a in el.iterancestors("a"))


def _teaser_picture(img: etree._Element, base: str) -> bool:
    """A picture linked to another page of the site next to a titled link to that same page: a
    teaser card of another article ("<a href=/x><img></a><a href=/x>Other story</a>"), not this
    one's. Product cards in a buying guide link off-site and stay."""
    link = next(img.iterancestors("a"), None)
    href = link.get("href") if link is not None else None
    if link is None or not href or _IMAGE_FILE_RE.search(href):
        return False
    target = try_clean_url(href, base)
    if target is None or not same_site(target, base):
        return False
    box = link.getparent()
    for _ in range(2):
        if box is None:
            return False
        for a in box.iter("a"):
            if a is not link and a.get("href") == href and len(norm_space(text_of(a))) >= 15:
                return True
        box = box.getparent()
    return False


def _lightbox_image(el: etree._Element) -> etree._Element | None:
    """The one picture inside an inline wrapper with no text of its own (or a lightbox link)."""
    img = el.find(".//img")
    if img is None:
        return None
    if el.tag == "a" and el.get("href") and not _IMAGE_FILE_RE.search(el.get("href") or ""):
        return None
    if norm_space(text_of(el)):
        return None
    return img


def _header_region(tree: lxml_html.HtmlElement, main: etree._Element | None
                   ) -> etree._Element | None:
    """The smallest element that holds both the first h1 and the content container."""
    if main is None:
        return None
    h1 = next(tree.iter("h1"), None)
    if h1 is None:
        # No headline element (a styled <div> or an <h2> instead): the <article> around the text
        # is the story with its header.
        return next((a for a in main.iterancestors("article")), None)
    # The nearest ancestor of the headline that also holds the text.
    ancestors = {main, *main.iterancestors()}
    node = next((a for a in h1.iterancestors() if a in ancestors), None)
    if node is None or node.tag in ("html", "body"):
        return None
    return node


def _caption_beside(img: etree._Element) -> tuple[str | None, str | None]:
    """A caption element next to the picture: in its figure, or a caption-named sibling of the
    picture or of one of its first three wrappers."""
    node = img
    for _ in range(4):
        parent = node.getparent()
        if parent is None:
            break
        if parent.tag == "figure":
            caption, credit = figure_caption(parent)
            if caption:
                return caption, credit
        for sib in (node.getnext(), node.getprevious()):
            if sib is None or not isinstance(sib.tag, str) or sib.find(".//img") is not None:
                continue
            text = norm_space(text_of(sib))
            if text and len(text) <= 400 and (sib.tag == "figcaption"
                                              or _CAPTION_CLASS_RE.search(_attrs(sib))):
                return split_credit(text)
        # The line of text right under the picture, last in a box that holds nothing else
        # (perhaps a credit line above it): the caption without a caption name.
        sib = node.getnext()
        if node is img and sib is not None and sib.getnext() is None and sib.tag in (
                "div", "p", "span") and len(parent) <= 3 and sib.find(".//a") is None \
                and sib.find(".//img") is None and not _has_block_child(sib):
            text = norm_space(text_of(sib))
            if 20 <= len(text) <= 300 and text.count(" ") >= 3 and not any(
                    c.tag in _HEADINGS for c in parent):
                caption, credit = split_credit(text)
                for other in parent:
                    found = _CREDIT_RE.search(norm_space(text_of(other))) \
                        if other is not img and other is not sib and not credit else None
                    if found:
                        credit = found.group(1)
                return caption, credit
        node = parent
    return None, None


def _holds_paragraphs(el: etree._Element) -> bool:
    """The element wraps at least two real paragraphs (article text, not a widget)."""
    long_paras = 0
    for p in el.iter("p"):
        if vis_len(text_of(p)) > 80:
            long_paras += 1
            if long_paras >= 2:
                return True
    return False


def _has_block_child(el: etree._Element) -> bool:
    return any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in el)


# "Read also" lines that link elsewhere, in the languages of our sources.
_READ_ALSO_RE = re.compile(
    r"^\W{0,3}(?:read (?:also|more)|also read|see also|related(?: topics| articles| stories)?|"
    r"more on this|lire aussi|à lire aussi|voir aussi|lesen sie (?:auch|mehr)|"
    r"mehr zum thema|weitere themen|weitere beiträge|auch interessant|das könnte sie auch|"
    r"lee también|leer también|ver también|leia também|veja também|leggi anche|"
    r"xem thêm|tin liên quan|đọc thêm|czytaj (?:też|także|więcej)|les også|läs också|lees ook|"
    r"zum seitenanfang|back to top|"
    # the heading of a table of contents whose links are gone
    r"table of contents|contents|inhaltsverzeichnis|sommaire|índice|indice|mục lục)"
    r"(?:\s*[:：»›|-]|\s*$)", re.IGNORECASE)
# The text of a teaser card taken for a picture's caption: "Lesen Sie mehrKate Moss: ...",
# "RELATED: ...", "HR Generalist: What They Do Read more".
_TEASER_CAPTION_RE = re.compile(
    r"^\W{0,3}(?:read (?:also|more)|related|lesen sie (?:auch|mehr)|mehr zum thema|lire aussi|"
    r"czytaj (?:też|także|więcej)|xem thêm|đọc thêm|tin liên quan|leia também|leggi anche)|"
    r"\bread more\W{0,3}$", re.IGNORECASE)
# Text longer than this in a picture's own paragraph, not set apart from it, is the text.
BESIDE_PICTURE_CHARS = 100
# The mean length of the lines of a teaser box (a title, a one-sentence standfirst).
TEASER_LINE = 170
# A line announcing a box of other articles, in the languages of our sources (inline prompts
# such as "Read also:" or "Xem thêm:" lead to one link inside the text; these head a list).
_MORE_STORIES_RE = re.compile(
    r"\W{0,3}(?:you (?:may|might) (?:also )?(?:like|enjoy|be interested in)(?: this)?|"
    r"(?:more|related|recommended|popular|latest|other|similar) (?:stories|articles|posts|news|"
    r"content|reads)(?: for you)?|more from [\w .-]{2,30}|(?:most|top) (?:read|popular|viewed|"
    r"shared)(?: stories| articles| now| today)?|trending(?: now| stories)?|"
    r"recommended for you|"
    r"(?:das )?(?:könnte|dürfte) (?:sie|dich) (?:auch|ebenfalls) interessieren|"
    r"weitere (?:artikel|nachrichten|meldungen|beiträge|themen)|meistgelesen(?:e artikel)?|"
    r"(?:viel|meist) gelesen(?: in [\w .-]{2,30})?|"
    r"sur le même (?:sujet|thème)|les plus lus|articles? (?:similaires|liés|connexes)|"
    r"vous (?:aimerez|pourriez aimer) aussi|(?:también )?te puede interesar|"
    r"(?:noticias|artículos) relacionad[oa]s|lo más (?:leído|visto)|articoli correlati|"
    r"potrebbe interessarti|notícias relacionadas|mais lidas|gerelateerde artikelen|"
    r"tin liên quan|tin cùng chuyên mục|tin khác|bài liên quan|tin đọc nhiều|tin mới nhất|"
    r"najczęściej czytane|mest (?:lest|läst))\W{0,3}", re.IGNORECASE)
# A video card's duration before its title ("2:34 Russia launches ...").
_VIDEO_CARD_RE = re.compile(r"^\d{1,2}:\d\d(?::\d\d)?\s+\w")
# Paywall and reading-time lines.
_NOTICE_RE = re.compile(r"^(?:article réservé aux abonnés|il vous reste \d|lecture \d+ min|"
                        r"\d+ min(?:utes?)? read|reading time|lesezeit|"
                        # the pager of a guide split over pages
                        r"(?:page|seite|página|pagina) \d+ (?:of|von|de|di|sur|/) \d+\W*$)",
                        re.IGNORECASE)


# Short lines between the paragraphs that only point elsewhere: ad separators, teaser prompts.
_PROMPT_RE = re.compile(r"^\W{0,3}(?:you (?:may|might) (?:also )?(?:like|enjoy|be interested in)|"
                        r"(?:the )?(?:article|story|text) continues (?:below|after)|"
                        r"continue reading (?:below|after)|scroll (?:down )?to continue|"
                        r"advertisement\W*$|sponsored content\W*$)", re.IGNORECASE)


def render(node: etree._Element, base: str, *, flat: bool = False) -> list[Block]:
    """The blocks of the article container, in reading order.

    "Read also" lines and headings, paywall and reading-time notices are not text. ``flat``: the
    node is another extractor's output, its page's boxes gone (a paragraph repeated there was
    laid out twice in the page as far as anyone can tell).
    """
    r = _Renderer(base)
    r.walk(node)
    out: list[Block] = []
    said: dict[str, etree._Element | None] = {}  # long paragraph -> the box it was given in
    for b in r.blocks:
        if b.kind == "p" and len(b.text) >= 50:
            # The same paragraph twice in two boxes is one text laid out twice (a desktop and a
            # mobile version of a section); twice in one box, the writer said it again.
            box = r.boxes.get(id(b))
            if b.text in said and (flat or said[b.text] is not box) \
                    and rules.applies("repeated-paragraph"):
                continue
            said.setdefault(b.text, box)
        if b.kind in ("p", "h") and len(b.text) < 200 and (
                (_READ_ALSO_RE.search(b.text) and rules.applies("read-also-line"))
                or (_NOTICE_RE.search(b.text) and rules.applies("notice-line"))
                or (len(b.text) < 100 and _PROMPT_RE.search(b.text)
                    and rules.applies("prompt-line"))):
            continue
        if b.kind == "figure" and b.image is not None and b.image.caption and (
                _READ_ALSO_RE.search(b.image.caption)
                or _TEASER_CAPTION_RE.search(b.image.caption)) \
                and rules.applies("teaser-caption-figure"):
            continue  # a teaser card's picture ("Read more: ..."): another article's
        if b.kind == "p" and len(out) < 3 and (
                (_is_byline_line(b.text) and rules.applies("top-byline-line"))
                or (len(b.text) < 300 and _DISCLOSURE_RE.search(b.text)
                    and rules.applies("disclosure-line"))):
            continue
        out.append(b)
    # A line that announces other articles ("You may also like", "Das könnte Sie auch
    # interessieren") after the text has begun ends it when what follows reads like teasers:
    # short lines (titles, standfirsts), less than twice the text above. A box of links set
    # into the text, with the article going on under it, is followed by more and longer text.
    cut = next((i for i, b in enumerate(out) if i >= 2 and b.kind in ("p", "h")
                and len(b.text) < 60 and _MORE_STORIES_RE.fullmatch(b.text)), None)
    if cut is not None:
        above = sum(len(b.text) for b in out[:cut] if b.kind != "figure")
        after = [len(b.text) for b in out[cut + 1:] if b.kind != "figure"]
        if above >= 400 and sum(after) < 2 * above \
                and sum(after) <= TEASER_LINE * max(1, len(after)) \
                and rules.applies("more-stories-ends-text"):
            del out[cut:]
    # The end of the container: an author's bio box and share/newsletter prompts.
    while out and out[-1].kind in ("p", "h") and (
            (_is_author_bio(out[-1].text) and rules.applies("tail-author-bio"))
            or (len(out[-1].text) < 60 and _TAIL_PROMPT_RE.search(out[-1].text)
                and rules.applies("tail-prompt"))
            or (len(out[-1].text) < 250 and _TAIL_CALL_RE.search(out[-1].text)
                and rules.applies("tail-call"))
            or (len(out[-1].text) < 300 and _TAIL_META_RE.search(out[-1].text)
                and rules.applies("tail-meta"))):
        out.pop()
    # A heading with no text under it, only pictures or nothing at all, heads a box whose
    # content is not text ("Other posts you may enjoy" over teaser pictures, "Mehr zum Thema"
    # or "Sources:" over a list of links, gone with the links).
    last = len(out) - 1
    while last >= 0 and out[last].kind == "figure":
        last -= 1
    if last >= 0 and out[last].kind == "h" and rules.applies("trailing-heading"):
        del out[last]
    # The same for a short line that ends no sentence, under the text: a box's label whose
    # content is gone ("Weitere Informationen", "Infos zum Reiseziel").
    for _ in range(2):
        last = len(out) - 1
        while last >= 0 and out[last].kind == "figure":
            last -= 1
        if last < 1 or not _is_label(out[last]) or not rules.applies("trailing-label"):
            break
        del out[last]
    return out


# A label is shorter than this; a sentence ends with one of these.
LABEL_CHARS = 40
_SENTENCE_END = (".", "!", "?", "…", '"', "”", "“", "»", "«", ")", "'", "’")
_BOLD_ONLY_RE = re.compile(r"^<p[^>]*>\s*<(b|strong)\b[^>]*>.*</\1>\s*</p>$", re.DOTALL)


def _is_label(block: Block) -> bool:
    """A short line that ends no sentence: a label, not a paragraph. A credit line, a name or a
    signature in bold stays: the byline is read from it later."""
    text = block.text
    return block.kind in ("p", "h") and len(text) < LABEL_CHARS \
        and not text.endswith(_SENTENCE_END) and not any(c.isdigit() for c in text) \
        and credit_line(text) is None and lone_name(text) is None \
        and not is_source_credit(text) and not _BOLD_ONLY_RE.match(block.html)


_BIO_RE = re.compile(r"^(?:[A-Z][\w'’.-]+ ){1,3}[A-Z][\w'’.-]+,? (?:is|was|has been|has)\b")
_BIO_ROLE_RE = re.compile(r"\b(?:writer|editor|journalist|reporter|correspondent|contributor|"
                          r"columnist|author|freelance)", re.IGNORECASE)
_TAIL_PROMPT_RE = re.compile(r"^(?:share (?:this|the) (?:article|story|post)|like loading|"
                             r"like this:|join our newsletter|sign up for|subscribe to our|"
                             r"(?:contributing|staff|senior) (?:writer|editor)|about the author|"
                             r"follow us)", re.IGNORECASE)


# The calls to the reader under the text (subscribe, follow, download the app, rate or share
# the article), in the languages of our sources.
_TAIL_CALL_RE = re.compile(
    r"^\W{0,3}(?:subscribe now|for the latest (?:stories|news)|follow (?:the \w+|us) on|"
    r"if you'?re (?:seeing this|already a subscriber)|first-time subscribers|download (?:the|our)"
    r" (?:\w+ )?app|was this (?:article|post|page) (?:helpful|useful)|"
    r"war (?:der|dieser) (?:artikel|beitrag) (?:nützlich|hilfreich)|"
    r"möchten sie (?:den|diesen) (?:artikel|beitrag) teilen|\(\d+ (?:stimmen|votes?|"
    r"bewertungen)|\(noch keine bewertungen\)|loading\.\.\.$|"
    r"¿ya sabías que|únete a|suscríbete|síguenos|abonnez-vous|abonniere|folge uns|"
    r"theo dõi (?:chúng tôi|báo)|đăng ký nhận)", re.IGNORECASE)


# The filing line under a blog post ("Tags: a, b", "Posted in X") and the syndication footer
# feeds add ("The post X appeared first on Y.").
_TAIL_META_RE = re.compile(r"^(?:tags?|tagged|categories|category|filed under|posted in)\s*[:|]|"
                           r"^the post .+ appeared first on ", re.IGNORECASE)


def _is_author_bio(text: str) -> bool:
    """"Jane Doe is a freelance writer who covers …": the author box under the text."""
    return len(text) < 600 and _BIO_RE.match(text) is not None \
        and _BIO_ROLE_RE.search(text[:200]) is not None


# The affiliate disclosure above a buying guide ("We may earn a commission when you buy
# through links on our site").
_DISCLOSURE_RE = re.compile(r"\b(?:earns?|receive|get)\b[^.]{0,40}\bcommissions?\b|"
                            r"\baffiliate links?\b|\bbuying through (?:our )?links\b",
                            re.IGNORECASE)
_BY_RE = re.compile(r"^(?:by|von|par|por|di|door|av|af|od|przez|από|от)\s+(\w)", re.IGNORECASE)


def _is_byline_line(text: str) -> bool:
    """A short "By Jane Doe" line at the top of the text (the byline, shown again)."""
    if len(text) > 80:
        return False
    m = _BY_RE.match(text)
    return m is not None and m.group(1).isupper()


def to_html(blocks: Iterator[Block] | list[Block]) -> str:
    """Sanitised HTML of the blocks (nh3 allow-list)."""
    out: list[str] = []
    for b in blocks:
        if b.kind == "p":
            inner = b.html
            if inner.startswith("<p"):
                out.append(inner)
            else:
                out.append(f"<p>{inner or escape(b.text)}</p>")
        elif b.kind == "h":
            lvl = min(max(b.level, 2), 6)
            out.append(f"<h{lvl}>{escape(b.text)}</h{lvl}>")
        elif b.kind in ("ul", "ol"):
            out.append(f"<{b.kind}>{b.html}</{b.kind}>")
        elif b.kind == "quote":
            out.append(f"<blockquote><p>{b.html}</p></blockquote>")
        elif b.kind == "pre":
            out.append(f"<pre>{b.html}</pre>")
        elif b.kind == "table":
            out.append(b.html)
        elif b.kind == "figure" and b.image is not None:
            img = b.image
            alt = f' alt="{escape(img.alt)}"' if img.alt else ""
            cap = ""
            if img.caption or img.credit:
                credit = f" <small>{escape(img.credit)}</small>" if img.credit else ""
                cap = f"<figcaption>{escape(img.caption or '')}{credit}</figcaption>"
            out.append(f'<figure><img src="{escape(img.url)}"{alt}>{cap}</figure>')
    return sanitize_html("".join(out))


def to_text(blocks: list[Block]) -> str:
    """Plain text of the body: paragraphs, headings, list items; captions are not body text."""
    return "\n\n".join(b.text for b in blocks if b.kind != "figure" and b.text)

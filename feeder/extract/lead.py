"""The article's lead (standfirst, "sapo", dek): the short summary the newsroom wrote under the
headline.

News pages build it in three common ways, tried in this order:

1. **marked**: an element after the headline whose class names it (``standfirst``, ``sapo``,
   ``dek``, ``subtitle``, ``excerpt``, ``epigraph``, ``chapo``, ``ingress``, ...);
2. **header**: the first sentence-like block right under the headline, inside the headline's own
   header block (after kicker, byline and date lines, which are skipped);
3. **bold-first**: the content's first paragraph set in bold (the whole paragraph in ``<strong>``,
   or a bold/medium font-weight class);
4. **described**: the page's description shown as text between the headline and the content
   (:func:`described`).

A lead found near the headline is trusted even when the page's description says something else
(descriptions are often written for search engines); a marked lead far from the headline must
agree with the description (lead-like classes also sit on teasers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from feeder.extract import byline, dates
from feeder.extract.content import is_inside, norm_space, text_of, vis_len

LEAD_CLASS_RE = re.compile(
    r"sapo|(?:^|[\s_-])lead|standfirst|stand-first|summary|intro|teaser|excerpt|subtitle|"
    r"sub-title|subhead|sub-head|(?:^|[\s_-])dek(?:$|[\s_-])|deck|abstract|chap[eo]|"
    r"description|desc(?:$|[\s_-])|tom-?tat|lede|epigraph|strapline|standfirst|ingress|"
    r"entradilla|bajada|sumario|resumen|occhiello|sommario|vorspann|kurztext|"
    r"article-summary|headline-?summary")
# Lines under a headline that are not the lead.
_META_CLASS_RE = re.compile(r"date|time|byline|author|meta|kicker|overline|eyebrow|label|"
                            r"category|breadcrumb|caption|credit|share|tag|topic|reading|"
                            r"dateline|source|rubric|section")
_BOLD_CLASS_RE = re.compile(r"(?:^|\s)(?:font-(?:medium|semibold|bold)|bold|fw-bold|"
                            r"intro|lead|first-paragraph)(?:$|\s)", re.IGNORECASE)
_CAPTION_RE = re.compile(r"caption|legend|(?:^|[\s_-])(?:image|photo|media|figure|credit)"
                         r"(?:$|[\s_-])")
# Photo credits: "Foto: X", "Photo: X", "© X", "X / Agency nuotr.", "Ảnh: X".
_CREDIT_RE = re.compile(r"(?:^|\s|\()(?:foto|photo|bild|ảnh|kuva|nuotr|fotó|zdjęcie|фото)\.?"
                        r"\s*[:/|]|\bnuotr\.|©|\(c\)\s", re.IGNORECASE)
_SENTENCE_END_RE = re.compile(r"[.!?…\"»“”')]\s*$")
_BLOCK_TAGS = {"p", "div", "h2", "h3", "span", "section", "header", "strong", "ul"}
_SCAN_TAGS = ("h1", "p", "div", "h2", "h3", "span", "section", "strong", "header", "ul", "figure",
              "figcaption")


@dataclass(frozen=True, slots=True)
class Lead:
    text: str
    kind: str  # marked | header | bold-first | described
    near: bool  # inside the headline's header block


def _attrs(el: etree._Element) -> str:
    """Class and id names, lower-cased (the class patterns are matched without IGNORECASE)."""
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


def _near(h1: etree._Element, el: etree._Element, levels: int = 4) -> bool:
    """True when ``el`` lies within the first few wrappers around the headline."""
    node = h1.getparent()
    for _ in range(levels):
        if node is None or node.tag in ("body", "html", "main"):
            return False
        if is_inside(el, node):
            return True
        node = node.getparent()
    return False


def _link_share(el: etree._Element, length: int) -> float:
    if not length:
        return 1.0
    return sum(vis_len(text_of(a)) for a in el.iter("a")) / length


def _sentence_like(text: str) -> bool:
    words = text.count(" ") + 1
    return 50 <= len(text) <= 700 and words >= 8 and (
        words >= 15 or _SENTENCE_END_RE.search(text) is not None)


def find(tree: etree._Element, main: etree._Element | None = None) -> Lead | None:
    """The visible lead under the first headline, or ``None``.

    ``main`` is the content container: an unmarked block directly in it is the first body
    paragraph rather than a standfirst.
    """
    body = tree.find("body")
    if body is None:
        return None
    h1 = next((h for h in body.iter("h1") if norm_space(text_of(h))), None)
    if h1 is None:
        return _marked_without_headline(body)
    seen_h1 = False
    plain = 0
    header_candidates = 0
    for el in body.iter(*_SCAN_TAGS):
        if el is h1:
            seen_h1 = True
            continue
        if not seen_h1 or is_inside(el, h1):
            continue
        tag = el.tag
        if tag in ("figure", "figcaption", "h1"):
            continue
        attrs = _attrs(el)
        if _is_marked(attrs):
            text = _marked_text(el)
            if text:
                return Lead(text, "marked", _near(h1, el))
            continue
        if tag == "p" and vis_len(text_of(el)) > 150:
            plain += 1
            if plain > 2:
                return None
        # An unmarked standfirst: the first sentence-like block in the headline's header.
        if header_candidates < 4 and tag in ("p", "h2", "div", "span") and _own_text(el):
            header_candidates += 1
            if not _near(h1, el, 3) or _META_CLASS_RE.search(attrs):
                continue
            # (A sentence set as an <h2> under the headline is the standfirst of many mobile
            # and AMP pages, even where it shares the body's container.)
            if tag != "h2" and (el.getparent() is main or _starts_a_run(el)):
                header_candidates = 99  # the body has begun: no standfirst after this
                continue
            text = norm_space(text_of(el))
            if _sentence_like(text) and _link_share(el, vis_len(text)) < 0.3 \
                    and el.find(".//img") is None and not _in_caption(el) \
                    and not _CREDIT_RE.search(text) and not _meta_line(text):
                return Lead(text, "header", True)
    return None


def described(tree: etree._Element, main: etree._Element | None,
              description: str | None) -> Lead | None:
    """The page's description shown as text under the headline and above the article's
    container: the standfirst, however it is marked up (a text a reader sees is the article's;
    the same text in metadata alone is not).

    Only the blocks between the first headline and the container are read; the shown text may
    be longer than a description cut short ("…").
    """
    if not description or len(description) < DESCRIBED_MIN_CHARS:
        return None
    want = norm_space(description).lower().rstrip(".… ")[:DESCRIBED_PREFIX]
    body = tree.find("body")
    if body is None:
        return None
    seen_h1 = next(body.iter("h1"), None) is None
    # The container's first block in document order: where the text begins (found once, not by
    # an ancestor walk for every block before it).
    begins = None if main is None else next(
        (el for el in main.iter(*_DESCRIBED_TAGS) if el.tag != "h1"), None)
    read = 0
    for el in body.iter(*_DESCRIBED_TAGS):
        if el.tag == "h1":
            seen_h1 = True
            continue
        if el is begins:
            return None  # the text has begun
        if not seen_h1:
            continue
        read += 1
        if read > DESCRIBED_SCAN:
            return None  # a standfirst sits right under the headline, not pages below it
        text = norm_space(text_of(el))
        if len(want) <= len(text) <= 2 * len(description) + 20 \
                and text.lower().startswith(want) and not _in_caption(el):
            return Lead(text, "described", True)
    return None


# A description shorter than this is a label; its first DESCRIBED_PREFIX characters are matched.
DESCRIBED_MIN_CHARS = 40
DESCRIBED_PREFIX = 60
# Blocks read after the headline before giving up.
DESCRIBED_SCAN = 40
_DESCRIBED_TAGS = ("h1", "p", "div", "h2", "span", "li", "strong")


def _meta_line(text: str) -> bool:
    """A byline or time-stamp line under the headline ("Von t-online, jse 15.04.2026 - 15:48
    Uhr Lesedauer: 2 Min."), whatever its classes say."""
    if byline.starts_with_by(text):
        return True
    stamp = dates.parse_visible(text, None) if len(text) < 160 else None
    return stamp is not None and stamp.has_time


def _marked_without_headline(body: etree._Element) -> Lead | None:
    """A page without an h1 (its headline in a styled div): the first element marked as a lead.
    It is not near a known headline, so the description must not contradict it (see core)."""
    for el in body.iter("p", "div", "h2", "h3", "span"):
        if _is_marked(_attrs(el)):
            text = _marked_text(el)
            if text:
                return Lead(text, "marked", False)
    return None


def _is_marked(attrs: str) -> bool:
    """Class names that call the block a lead, and not a meta line (date, byline, caption)."""
    return len(attrs) > 2 and bool(LEAD_CLASS_RE.search(attrs)) and not _META_CLASS_RE.search(
        attrs)


def _marked_text(el: etree._Element) -> str | None:
    """The text of a block marked as a lead when it reads as one: sentences of lead length,
    no picture, mostly not links, not in a caption."""
    text = norm_space(text_of(el))
    if 40 <= len(text) <= 1000 and el.find(".//img") is None \
            and _link_share(el, vis_len(text)) < 0.5 and _reads_like_lead(text) \
            and not _in_caption(el):
        return text
    return None


def _starts_a_run(el: etree._Element) -> bool:
    """The block is followed by a sibling of the same kind: the first of the body paragraphs."""
    nxt = el.getnext()
    while nxt is not None and not isinstance(nxt.tag, str):
        nxt = nxt.getnext()
    return (nxt is not None and nxt.tag == el.tag and nxt.get("class") == el.get("class")
            and vis_len(text_of(nxt)) > 60)


def _reads_like_lead(text: str) -> bool:
    """Sentences, not a second headline or a teaser title; no photo credit."""
    words = text.count(" ") + 1
    if _CREDIT_RE.search(text) or _meta_line(text):
        return False
    return words >= 15 or (words >= 6 and _SENTENCE_END_RE.search(text) is not None)


def _in_caption(el: etree._Element) -> bool:
    """Inside a figure or a caption box (a photo caption is not the lead)."""
    node: etree._Element | None = el
    for _ in range(4):
        if node is None:
            return False
        if node.tag in ("figure", "figcaption", "picture") or _CAPTION_RE.search(_attrs(node)):
            return True
        node = node.getparent()
    return False


def _own_text(el: etree._Element) -> bool:
    """The element holds text itself (not only in block children): a text block, not a wrapper."""
    if (el.text or "").strip():
        return True
    return any(isinstance(c.tag, str) and c.tag not in _BLOCK_TAGS and (text_of(c).strip())
               for c in el) and not any(isinstance(c.tag, str) and c.tag in _BLOCK_TAGS
                                        for c in el)


_WRAPPED = {"p", "div", "section", "article", "ul", "ol", "table", "figure", "h2", "h3",
            "blockquote"}


def bold_first(main: etree._Element | None) -> str | None:
    """The container's first paragraph when it is set in bold: the lead in many CMSs."""
    if main is None:
        return None
    for p in main.iter("p", "div"):
        if p.tag == "div" and any(isinstance(c.tag, str) and c.tag in _WRAPPED for c in p):
            continue  # a wrapper: its paragraphs come next
        text = norm_space(text_of(p))
        if len(text) < 40:
            continue
        if len(text) > 700:
            return None
        if _BOLD_CLASS_RE.search(p.get("class") or ""):
            return text
        children = [c for c in p if isinstance(c.tag, str)]
        if len(children) == 1 and children[0].tag in ("strong", "b") \
                and not (p.text or "").strip() and not (children[0].tail or "").strip():
            return text
        if p.tag == "p":
            return None
        # A text <div> that is not bold (a date line, a share bar) does not end the search:
        # only the first paragraph decides.
    return None

"""page -> Article: the layered extractor (issue 3).

Strongest evidence first: structured data (JSON-LD, OpenGraph, meta, microdata, ``<time>``), then
the visible page (h1, bylines, Vietnamese credit lines and time stamps), then generic content
extraction on the same lxml tree. The page is parsed once; every step reads that tree. Where each
field came from is written to ``Article.provenance``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from datetime import timezone as dt_timezone
from functools import lru_cache

from lxml import etree
from lxml import html as lxml_html

from feeder import urls
from feeder.charset import decode_html
from feeder.errors import ExtractError
from feeder.extract import body, byline, content, dates, metadata, title
from feeder.extract import images as pictures
from feeder.extract import lead as leads
from feeder.model import Article, Image, unique
from feeder.sanitize import cap_text, without_private_images, xml_safe
from feeder.urls import clean_url, same_site, try_clean_url

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
# Longer than any real headline (Vietnamese ones run to about 150 characters); a page's 10,000
# character <title> is cut here, at a word, rather than reaching every feed reader (issue 9).
MAX_TITLE_CHARS = 300

_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# Matched on lower-cased class names: much faster than IGNORECASE on long class strings.
_DATE_CLASS_RE = re.compile(r"date|time|publish|posted|dateline|meta|byline|ngay|thoigian|"
                            r"created|updated|info")
_BYLINE_CLASS_RE = re.compile(r"byline|author|writer|reporter|tac-?gia|creator|journalist|"
                              r"contributor")
# The outlet's tag opening a lead: "(Dân trí) - ", "(PLO)- ", "VOV.VN - ", "TPO - ".
_OUTLET_PREFIX_RE = re.compile(r"^\s*(?:\([^()]{2,30}\)\s*[-–—]+\s*"
                               r"|[A-ZĐ][A-ZĐ.]{1,11}\s+[-–—]+\s+)(?=\w)")
_AUTHOR_BIO_RE = re.compile(r"(?:author|writer)[-_]?(?:description|desc|bio|about)\b")
# Frequent Vietnamese function words: enough to tell a Vietnamese page that declares no language.
_LANG_VI_RE = re.compile(r"\b(?:của|và|những|được|trong|người|không|các|với|cho|này|là|một|đã)\b",
                         re.IGNORECASE)


# Void in HTML5 but unknown to libxml2's HTML 4 parser, which would make everything after them
# (the rest of a paragraph after a <wbr>, the rest of an article after an <embed>) their child.
# (The look-ahead rejects most tags before the case-blind names are tried: 40% faster.)
_VOID_RE = re.compile(r"<(?=[eEsStTwWkK\u017f\u212a])((?i:embed|source|track|wbr|keygen))\b"
                      r"([^<>]*?)/?>")


def _close_void(m: re.Match[str]) -> str:
    return f"<{m.group(1)}{m.group(2)}></{m.group(1)}>"


def parse(html: str | bytes) -> lxml_html.HtmlElement:
    """Bytes or text to an lxml tree (bytes decoded and NFC-normalised by decode_html).

    This is where page text enters the tree, so it is made XML-safe here and only here: libxml2's
    HTML parser keeps a vertical tab or a form feed, and lxml then refuses that text when a step
    moves it (a removed script's tail joining its neighbour) or serialises it (issue 9).
    """
    text = xml_safe(decode_html(html)[0] if isinstance(html, bytes) else html)
    text = _XML_DECL_RE.sub("", text, count=1)
    text = _VOID_RE.sub(_close_void, text)
    if not text or text.isspace():  # (strip() would copy the whole page)
        raise ValueError("empty page")
    # Plain etree elements: lxml.html's per-element class lookup costs more than the parse.
    root = etree.fromstring(text, _PARSER)
    if root is None:
        raise ValueError("no HTML elements")
    return root


def extract(html: str | bytes, url: str, *, source: str = "",
            timezone: str | None = DEFAULT_TIMEZONE, language: str | None = None) -> Article:
    """The canonical record of one article page; pure (no network).

    ``timezone`` is the source's zone for naive times; ``None`` infers it from the page: the
    offset its other stamps declare, Asia/Ho_Chi_Minh for Vietnamese pages, else UTC.
    Raises :class:`ExtractError` when the page cannot be parsed or has no title; a page whose
    text is not found gives a lead-only record (``provenance["content"] == "lead-only"``).
    """
    try:
        tree = parse(html)
    except (ValueError, etree.ParserError) as exc:
        raise ExtractError(f"cannot parse page: {exc}", url=url) from exc
    return extract_tree(tree, url, source=source, timezone=timezone, language=language,
                        page=html)


def _visible_h1s(tree: lxml_html.HtmlElement) -> list[str]:
    out: list[str] = []
    for h in tree.iter("h1"):
        out.extend(t for t in title.h1_texts(h) if t and len(t) < 400)
        if len(out) >= 6:
            break
    return out


@lru_cache(maxsize=4096)
def _is_date_box(attrs: str) -> bool:
    return len(attrs) > 2 and bool(_DATE_CLASS_RE.search(attrs.lower()))


@lru_cache(maxsize=4096)
def _is_byline_box(attrs: str) -> bool:
    # Comment authors ("comment-author vcard") are readers, not the article's authors; an
    # author's description or bio box holds credentials and prose, not the name.
    attrs = attrs.lower()
    return (len(attrs) > 2 and bool(_BYLINE_CLASS_RE.search(attrs))
            and "comment" not in attrs and not _AUTHOR_BIO_RE.search(attrs))


def _date_texts(tree: lxml_html.HtmlElement) -> list[tuple[str, str]]:
    """Short visible texts that may carry the article's time stamps, with their tag.

    A ``<time>`` inside an "Updated ..." label is tagged ``time-upd``.
    """
    out: list[tuple[str, str]] = []
    body = tree.find("body")
    if body is None:
        return out
    for el in body.iter("time", "span", "div", "p", "li", "small", "em", "i", "td", "b", "strong"):
        if el.tag == "time":
            dt = el.get("datetime")
            if dt:
                out.append((dt, "time-upd" if dates.in_update_label(el) else "time"))
                continue
        else:
            cls, ident = el.get("class"), el.get("id")
            if not (cls or ident) or not _is_date_box(f"{cls or ''} {ident or ''}"):
                continue
        text = content.text_of(el)
        if 6 <= len(text) < 200:
            out.append((content.norm_space(text), "visible"))
        if len(out) > 40:
            break
    return out


def _near_h1_texts(tree: lxml_html.HtmlElement, tz_name: str | None) -> list[tuple[str, str]]:
    """Short texts right around the headline that hold a date, in boxes without a date class
    ("<p>February 4, 2025 - 11 minutes</p><h1>...")."""
    h1 = tree.find(".//body//h1")
    if h1 is None:
        return []
    out: list[tuple[str, str]] = []
    node = h1
    for _ in range(2):  # the h1's siblings, then its parent's
        sibs = [*list(node.itersiblings(preceding=True))[:3],
                *list(node.itersiblings())[:5]]
        for el in sibs:
            if not isinstance(el.tag, str) or el.tag in ("script", "style"):
                continue
            text = content.norm_space(content.text_of(el))
            if 6 <= len(text) < 100 and dates.parse_visible(text, tz_name):
                out.append((text, "near"))
        if out:
            break
        node = node.getparent()
        if node is None or node.tag == "body":
            break
    return out


_STAMP_LABEL_RE = re.compile(r"^\s*(?:last\s+)?(?:updated|modified|published|posted)(?:\s+on)?"
                             r"\s*:?\s*\S", re.IGNORECASE)


def _labelled_date_texts(tree: lxml_html.HtmlElement,
                         tz_name: str | None) -> list[tuple[str, str]]:
    """Short texts anywhere in the page that announce a stamp ("Updated Feb 11, 2026") in boxes
    without a date class: the page's own label says what the date is."""
    body = tree.find("body")
    if body is None:
        return []
    out: list[tuple[str, str]] = []
    for chunk in body.itertext():
        if 10 <= len(chunk) < 60 and _STAMP_LABEL_RE.match(chunk):
            text = content.norm_space(chunk)
            if dates.parse_visible(text, tz_name):
                out.append((text, "visible"))
                if len(out) >= 3:
                    break
    return out


# Headings and terms read only as an author label ("<h3>Author</h3><p>Jane Doe</p>"); their
# classes ("author-box-title": "About Jane Doe") do not make them a byline.
_LABEL_HEADS = ("h3", "h4", "h5", "h6", "dt")
_BY_HEADS = ("by", "von", "written", "posted", "reported", "story", "words")


def _byline_texts(tree: lxml_html.HtmlElement) -> list[str]:
    """Texts of byline boxes (class names, rel=author), then of short "By Jane Doe" lines under
    the headline that carry no such class."""
    out: list[str] = []
    by_lines: list[str] = []
    body = tree.find("body")
    if body is None:
        return out
    seen_h1 = False
    for el in body.iter("h1", "a", "span", "div", "p", "address", "strong", "b", "li", "h3",
                        "h4", "h5", "h6", "dt"):
        tag = el.tag  # (tag and text read once: each read builds a new string)
        if tag == "h1":
            seen_h1 = True
            continue
        rel = el.get("rel") or ""
        cls, ident = el.get("class"), el.get("id")
        if cls and _AUTHOR_BIO_RE.search(cls.lower()):
            # "<p>Jane Doe</p><div class='author-description'>Q Grader, M.A.</div>": the name
            # sits right above its author's description.
            prev = el.getprevious()
            if prev is not None and isinstance(prev.tag, str) and len(prev) == 0:
                name = content.norm_space(prev.text or "")
                if 4 < len(name) < 40 and len(name.split()) <= 4:
                    out.append(name)
            continue
        if tag not in _LABEL_HEADS and (rel == "author" or (
                (cls or ident) and _is_byline_box(f"{cls or ''} {ident or ''}"))):
            text = byline.box_text(el)
            if 2 < len(text) < 120:
                out.append(text)
            if len(out) > 8:
                break
            continue
        own = el.text
        if not own or len(by_lines) >= 3:
            continue
        if (seen_h1 and tag in ("p", "div", "span", "li")
                and own.lstrip()[:8].lower().startswith(_BY_HEADS) and (
                    byline.starts_with_by(own) or (byline.is_by_word(own) and
                                                   byline.starts_with_by(
                                                       content.text_of(el)[:80])))):
            text = byline.line_text(el)  # "by: Jane Doe, Dec 17, 2025"
            if len(text) < 120:
                by_lines.append(text)
        elif (tag in ("strong", "b", "span", *_LABEL_HEADS)
              and len(own) < 20 and own.lstrip()[:1] in "AaWwTtFfSsBbCcVv"):
            # "<strong>Autor</strong> Roman Goncharenko", "<span>By</span><span>Jane Doe</span>",
            # "<h3>Author</h3><p>Jane Doe</p>"
            named = byline.label_text(el)
            if named:
                by_lines.append(f"By {named}")
    return out + by_lines


_SENTENCE_RE = re.compile(r"(?<=[^\s.]{3}[.!?])\s")


def _title_from_text(text: str, limit: int = 90) -> tuple[str, str] | None:
    """The first sentence of the text, cut at a word near ``limit``: a title for a page that
    has none. None when there is too little text to be an article."""
    text = " ".join(text.split())
    if len(text) < 40:
        return None
    first = _SENTENCE_RE.split(text, maxsplit=1)[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0].rstrip(" ,;:-–—") + "…"
    return first, "text-start"


def _credit_beside(main: etree._Element, signed: set[str]) -> list[str]:
    """Authors credited in the elements right after the body ("<p><b>Bài và ảnh: X - Y</b></p>"
    under the article text, outside the block that holds it), else right before it (a credit
    line between the headline and the text). ``signed``: right-aligned bold names (see
    :func:`byline.signatures`)."""
    for before in (False, True):
        seen = 0
        node: etree._Element | None = main
        for _level in range(3):
            if node is None or seen > 4:
                break
            for sib in node.itersiblings(preceding=before):
                if not isinstance(sib.tag, str):
                    continue
                text = content.norm_space("".join(sib.itertext()))
                if not text:
                    continue
                seen += 1
                if seen > 4:
                    break
                if len(text) <= 90:
                    # A labelled credit or a signature: a lone line in capitals beside the
                    # body is as often a button ("BACK TO TOP") as a name.
                    names = byline.credit_line(text)
                    if names is None and text in signed:
                        names = byline.split_names(text)
                    if names:
                        return names
            node = node.getparent()
    return []


_STAMP_NOISE_RE = re.compile(r"[\d\W_]+|\b(?:gmt|utc|am|pm|ngày|lúc|thứ|chủ nhật|cập nhật|"
                             r"updated?|published|posted|on|at|hai|ba|tư|năm|sáu|bảy)\b",
                             re.IGNORECASE)


def _is_stamp_line(text: str, tz_name: str | None) -> bool:
    if len(text) > 100 or dates.parse_visible(text, tz_name) is None:
        return False
    return len(_STAMP_NOISE_RE.sub("", text)) < 12


def _same_text(a: str, b: str) -> bool:
    na, nb = title.norm(a), title.norm(b)
    return bool(na and nb) and (na == nb or (len(nb) > 30 and (na in nb or nb in na)))


def extract_tree(tree: lxml_html.HtmlElement, url: str, *, source: str = "",
                 timezone: str | None = DEFAULT_TIMEZONE,
                 language: str | None = None, page: str | bytes | None = None) -> Article:
    """:func:`extract` on an already parsed tree (the tree is modified).

    ``page`` is the page the tree was parsed from: where the body found in the tree is weak,
    a second opinion reads it again (see :mod:`feeder.extract.body`); without it there is none.
    """
    prov: dict[str, str] = {}
    meta = metadata.read(tree)
    base = url
    if meta.canonical and meta.canonical.startswith("http") and same_site(meta.canonical, url):
        canonical = clean_url(meta.canonical)
        prov["url"] = "canonical"
    else:
        canonical = clean_url(url)
        prov["url"] = "given"

    h1s = _visible_h1s(tree)
    # No headline in an h1 (old and simple pages, a site name in the h1): the first heading or
    # "title" block a reader sees stands in for it when the metadata has no title either.
    headings = (title.visible_headings(tree) if not h1s or all(
        title.is_site_name(h, meta.site_names, url) for h in h1s) else [])
    kicked = title.kicked_h1s(tree)
    date_texts = _date_texts(tree)
    url_day = dates.url_date(canonical) or dates.url_date(url)
    if not meta.published:
        date_texts = _near_h1_texts(tree, timezone) + date_texts
        if not date_texts:
            date_texts = _labelled_date_texts(tree, timezone)
    if not meta.published and not any(
            kind.startswith("time") or dates.parse_visible(text, timezone)
            for text, kind in date_texts):
        # No date in the metadata nor in the page's date boxes: let htmldate search the page
        # (slow, so only here; it may also take a header's "today" date, so it comes last).
        found = _htmldate(tree) if not (url_day and url_day[2]) else None
        if found:
            meta.published.append((found, "htmldate"))
    byline_texts = _byline_texts(tree)
    opening_names: set[str] = set()  # "<p><b>Jane Doe</b></p>" opening the text
    signatures = byline.signatures(tree, opening_names)

    ld_captions = pictures.jsonld_captions(tree)  # scripts go with prune()
    content.prune(tree)
    main = content.find_main(tree)
    found_lead = leads.find(tree, main)
    # The description shown above the text is the article's first paragraph (not the summary:
    # that stays the newsroom's description).
    shown = None if found_lead else leads.described(
        tree, main, meta.descriptions[0][0] if meta.descriptions else None)
    bold_lead = leads.bold_first(main)
    chosen_body = body.choose(content.render(main, base) if main is not None else [], tree, page,
                              base, main)
    blocks = list(chosen_body.blocks)

    # Vietnamese credit lines at the end (or the top) of the body are the byline, not text.
    credit_authors: list[str] = []
    first_p = next((i for i, b in enumerate(blocks) if b.kind == "p"), -1)
    for idx in [*range(len(blocks) - 1, max(len(blocks) - 4, -1), -1), 0, 1, 2]:
        if idx >= len(blocks) or idx < 0:
            continue
        blk = blocks[idx]
        if blk.kind != "p":
            continue
        names = byline.credit_line(blk.text)
        if names is None and idx >= len(blocks) - 2:
            names = byline.lone_name(blk.text)
        if names is None and (blk.text.strip() in signatures or (
                idx == first_p and blk.text.strip() in opening_names)):
            names = byline.split_names(blk.text)
        if names:
            credit_authors = names
            blocks[idx] = content.Block("credit", blk.text)
            break
        if idx == len(blocks) - 1 and (cut := byline.trailing_credit(blk.text)):
            # "... đang điều tra. Tin, ảnh: TRÍ NHÂN": the credit closes the last paragraph.
            # Kept as plain text: the credit's markup may wrap only part of it, and a cut
            # inside the markup would leave half a tag.
            credit_authors = cut[1]
            blocks[idx] = content.Block("p", cut[0], "")
            break
    if not credit_authors and main is not None:
        credit_authors = _credit_beside(main, signatures)
    for idx in range(len(blocks) - 1, max(len(blocks) - 3, -1), -1):
        if blocks[idx].kind == "p" and byline.is_source_credit(blocks[idx].text):
            blocks[idx] = content.Block("credit", blocks[idx].text)

    # A short line that is only a time stamp ("Thứ Ba, 22/12/2020, 17:05 (GMT+7)") is metadata.
    blocks = [b for b in blocks if not (b.kind == "p" and _is_stamp_line(b.text, timezone))]

    # Title.
    chosen = title.choose([*h1s, *headings], meta.titles, meta.doc_title, meta.site_names,
                          canonical, news=meta.news, kicked=kicked)
    if chosen and chosen[0] in headings and chosen[1] == "h1-unrelated-meta":
        # A heading is a weaker signal than an h1: it may agree with the metadata, never
        # overrule it (a sub-heading that shares no word with the title is not the headline).
        chosen = title.choose(h1s, meta.titles, meta.doc_title, meta.site_names, canonical,
                              news=meta.news, kicked=kicked)
    if chosen is None:
        # A page that names itself nowhere (no h1, heading, metadata or <title>) but holds text:
        # its opening words are the title a reader would give it, rather than losing the item.
        chosen = _title_from_text(content.to_text([b for b in blocks if b.kind == "p"]))
        if chosen is None:
            raise ExtractError("no title", url=url)
    headline, prov["title"] = chosen
    headline = cap_text(headline, MAX_TITLE_CHARS)
    # The headline repeated as the first block is not body text (a paragraph that opens with
    # the headline's words and goes on is).
    body_blocks = [b for b in blocks if b.kind not in ("credit",)]
    if body_blocks and body_blocks[0].kind in ("h", "p") and _same_text(
            body_blocks[0].text, headline) and len(body_blocks[0].text) <= 2 * len(headline):
        body_blocks = body_blocks[1:]

    # Summary: the lead paragraph, else the description (see feeder/extract/lead.py for when a
    # lead is trusted); a first paragraph that extends a truncated description is the lead too.
    summary: str | None = None
    description = meta.descriptions[0][0] if meta.descriptions else None
    first_para = next((b.text for b in body_blocks if b.kind == "p"), None)
    lead = found_lead.text if found_lead else None
    if found_lead and (found_lead.near or description is None
                       or title.words_f1(found_lead.text, description) >= 0.3):
        summary, prov["summary"] = found_lead.text, "lead"
    elif bold_lead and first_para and _same_text(first_para, bold_lead):
        summary, prov["summary"] = bold_lead, "bold-first-paragraph"
    elif description:
        summary, prov["summary"] = description, meta.descriptions[0][1]
        stem = description.rstrip(".… ")
        if first_para and len(stem) > 40 and first_para.startswith(stem[:-3]):
            summary, prov["summary"] = first_para, "first-paragraph"
        elif (first_para and len(description) < 40 and len(description.split()) < 5
              and len(first_para) < 600):
            # "SÜGAM-Vollversammlung": a label, not a summary; the opening paragraph says more.
            summary, prov["summary"] = first_para, "first-paragraph"
    if summary:
        summary = _OUTLET_PREFIX_RE.sub("", summary, count=1) or summary
    if prov.get("summary") != "lead":
        lead = None
    if summary and lead and not any(_same_text(b.text, lead) for b in body_blocks[:4]):
        body_blocks.insert(0, content.Block("p", lead, ""))
    if shown and not any(_same_text(b.text, shown.text) for b in body_blocks[:4]):
        body_blocks.insert(0, content.Block("p", shown.text, ""))

    text = content.to_text(body_blocks)
    if text.strip() and not (lead and text.strip() == lead.strip()):
        prov["content"] = chosen_body.source
    else:
        # No body text at all: the item goes out with its lead and a link to the page, marked,
        # never with an empty body.
        prov["content"] = "lead-only"
        body_blocks = body.lead_only(summary, [b for b in body_blocks if b.kind == "figure"])
        text = content.to_text(body_blocks)

    # Language and time zone.
    lang = language or _language(meta.language, text)
    tz_name = timezone if timezone is not None else _infer_zone(meta, lang)

    dateline = next((d for b in [b for b in body_blocks if b.kind == "p"][:3]
                     if (d := dates.dateline_day(b.text))), None)
    published, updated = _dates(meta, date_texts, tz_name, prov, url_day, tree, dateline)
    authors = _authors(meta, byline_texts, credit_authors, prov, canonical)

    images = [b.image for b in body_blocks if b.kind == "figure" and b.image is not None]
    known = {i.url for i in images}
    images += [i for i in content.outside_figures(tree, main, base) if i.url not in known]
    images = pictures.with_captions(images, ld_captions, meta.images[0] if meta.images else None)
    if not images and meta.images:
        images = [Image(url=(try_clean_url(meta.images[0], base) or "") if meta.images[0] else "")]
        prov["images"] = "og"
    elif images:
        prov["images"] = "content"
    # An image on a private address would be fetched by the reader's client inside its network.
    images = [i for i in images if not urls.is_private_from_public(i.url, canonical)]

    return Article(
        url=canonical,
        title=headline,
        source=source,
        summary=summary,
        content_html=without_private_images(
            content.to_html(body_blocks) if prov["content"] != "lead-only"
            else body.lead_only_html(body_blocks, canonical, headline), canonical),
        content_text=text,
        authors=tuple(authors),
        published=published,
        updated=updated,
        language=lang,
        categories=unique(c for c in meta.categories[:12] if len(c) < 60),
        images=tuple(images),
        provenance=prov,
    )


def _htmldate(tree: lxml_html.HtmlElement) -> str | None:
    try:
        from htmldate import find_date
    except ImportError:  # pragma: no cover - htmldate ships with trafilatura
        return None
    try:
        # htmldate wants lxml.html elements; serialising costs less than parsing twice always.
        page = etree.tostring(tree, encoding="unicode", method="html")
        return find_date(page, original_date=True, extensive_search=True)
    except (ValueError, TypeError):
        return None


def _language(declared: str | None, text: str) -> str | None:
    if declared:
        return declared.replace("_", "-").split("-")[0].lower() or None
    if len(_LANG_VI_RE.findall(text[:2000])) >= 3:
        return "vi"
    return None


def _infer_zone(meta: metadata.Metadata, lang: str | None) -> str | None:
    """A zone for naive times when the source gives none: Vietnamese pages are in Vietnam."""
    if lang == "vi":
        return DEFAULT_TIMEZONE
    return None


def _page_offset(meta: metadata.Metadata) -> dt_timezone | None:
    for value, _ in meta.published + meta.updated:
        st = dates.parse_machine(value, None)
        if st and st.has_time and re.search(r"(?:Z|[+-]\d\d:?\d\d)\s*$", value.strip()):
            off = st.when.utcoffset()
            if off is not None:
                return dt_timezone(off)
    return None


def _dates(meta: metadata.Metadata, date_texts: list[tuple[str, str]], tz_name: str | None,
           prov: dict[str, str], url_day: tuple[int, int, int | None] | None = None,
           tree: lxml_html.HtmlElement | None = None,
           dateline: tuple[int, int] | None = None,
           ) -> tuple[datetime | None, datetime | None]:
    zone_name = tz_name
    page_off = _page_offset(meta) if tz_name is None else None
    month_first = dates.is_month_first(meta.language, meta.locale) or dates.writes_month_first(
        [v for v, k in date_texts if k in ("visible", "near")])

    def machine(value: str) -> dates.Stamp | None:
        st = dates.parse_machine(value, zone_name, month_first=month_first)
        if st and page_off is not None and st.has_time and not re.search(
                r"(?:Z|[+-]\d\d:?\d\d|GMT|UTC)\s*$", value.strip(), re.IGNORECASE):
            st = dates.Stamp(st.when.replace(tzinfo=page_off), True)
        return st

    pubs: list[tuple[dates.Stamp, str]] = []
    for value, src in meta.published:
        st = machine(value)
        if st:
            pubs.append((st, src))
    visible_pub: list[tuple[dates.Stamp, str]] = []
    visible_upd: list[tuple[dates.Stamp, str]] = []
    update_texts = [v for v, k in date_texts if k in ("visible", "near")
                    and dates.is_update_label(v) and not dates.is_published_label(v)]
    near_days: set[date] = set()
    near_upd_days: set[date] = set()
    for value, kind in date_texts:
        if kind in ("time", "time-upd"):
            st = machine(value)
            if st:
                (visible_pub if kind == "time" else visible_upd).append((st, "time"))
            continue
        st = dates.parse_visible(value, zone_name, month_first=month_first)
        if st is None:
            continue
        updating = dates.is_update_label(value) or any(value in u for u in update_texts)
        if kind == "near":
            (near_upd_days if updating else near_days).add(st.when.date())
        if updating:
            # "Last updated on <span>Feb 27</span>": the inner box is the update stamp too.
            visible_upd.append((st, "visible"))
        else:
            visible_pub.append((st, "visible"))
    if near_days:
        # The stamps printed beside the headline are the article's; the other date boxes of
        # the page (related cards, comments) only count where they repeat one of those days.
        visible_pub = [v for v in visible_pub if v[0].when.date() in near_days]
    elif near_upd_days:
        # Only an update stamp beside the headline: the date boxes elsewhere are other stories';
        # a machine-readable <time> still speaks for the article.
        visible_pub = [v for v in visible_pub if v[1] == "time"]
    if url_day and not [p for p in pubs if p[1] != "htmldate"]:
        # No machine-readable date: the URL's day (or month) beats a guess that contradicts it.
        pubs = [p for p in pubs if dates.agrees(p[0], url_day)]
        visible_pub = [v for v in visible_pub if dates.agrees(v[0], url_day)] or (
            _text_date(tree, url_day, zone_name) if tree is not None and not pubs else [])
        if not pubs and not visible_pub and (url_d := url_day[2]):
            y, m = url_day[0], url_day[1]
            day = dates.parse_machine(f"{y:04d}-{m:02d}-{url_d:02d}", zone_name)
            if day:
                pubs = [(day, "url")]
    published = None
    if pubs:
        published, src = _confirmed(pubs, dateline, zone_name)
        labelled = _labelled_published(published, meta, date_texts, zone_name, month_first)
        if labelled is not None:
            published, src = labelled, "visible:published-label"
        if not published.has_time:
            for st, s2 in pubs[1:] + visible_pub:
                if st.has_time and st.when.date() == published.when.date():
                    published, src = st, f"{src}+{s2}"
                    break
        prov["published"] = src
    elif visible_pub:
        published, prov["published"] = visible_pub[0]
    upd = None
    for value, src in meta.updated:
        st = machine(value)
        if st:
            upd = st
            prov["updated"] = src
            break
    if upd is None and visible_upd:
        upd, prov["updated"] = visible_upd[0]
    if published is None and upd is not None:
        # A page that says only when it was last updated ("Last updated: Dec 12, 2025"): that
        # is the date its readers see, and the one feeds show (see feeder/publish/items.py).
        published, prov["published"] = upd, "updated-only"
    return (published.when if published else None), (upd.when if upd else None)


def _confirmed(pubs: list[tuple[dates.Stamp, str]], dateline: tuple[int, int] | None,
               zone_name: str | None) -> tuple[dates.Stamp, str]:
    """The first publication stamp, checked against the body's dateline ("Ngày 22/12, ...").

    A dateline has no year and may name the day of the event rather than of the article, so it
    only confirms: among metadata stamps that disagree it picks the one on its day, and it never
    brings a day of its own."""
    first, src = pubs[0]
    if dateline is None:
        return first, src

    def day_month(st: dates.Stamp) -> tuple[int, int]:
        when = st.when.astimezone(dates.zone(zone_name)) if zone_name else st.when
        return when.day, when.month

    for st, s in pubs:
        if day_month(st) == dateline:
            return st, f"{s}+dateline"
    return first, src


def _labelled_published(first: dates.Stamp, meta: metadata.Metadata,
                        date_texts: list[tuple[str, str]], zone_name: str | None,
                        month_first: bool) -> dates.Stamp | None:
    """A visible "Published <day>" that contradicts a metadata publication time equal to the
    modification time: a CMS that rewrites both on every save says when the page was last
    saved, the label says when the article came out."""
    saved = {st.when for v, _ in meta.updated[:3]
             if (st := dates.parse_machine(v, zone_name, month_first=month_first))}
    if first.when not in saved:
        return None
    for text, kind in date_texts:
        if kind == "visible" and dates.is_published_label(text) and not dates.is_update_label(
                text):
            st = dates.parse_visible(text, zone_name, month_first=month_first)
            if st is not None and st.when.date() < first.when.date():
                return st
    return None


def _text_date(tree: lxml_html.HtmlElement, url_day: tuple[int, int, int | None],
               zone_name: str | None) -> list[tuple[dates.Stamp, str]]:
    """The first date in the page's text that falls where the URL says (a plain "20 December
    2025" under the headline, in no date box)."""
    body = tree.find("body")
    if body is None:
        return []
    for chunk in body.itertext():
        if 6 <= len(chunk) < 200 and any(c.isdigit() for c in chunk):
            st = dates.parse_visible(chunk, zone_name)
            if st and dates.agrees(st, url_day):
                return [(st, "text+url")]
    return []


def _authors(meta: metadata.Metadata, byline_texts: list[str], credit: list[str],
             prov: dict[str, str], url: str = "") -> list[str]:
    names, src = byline.choose(meta.authors, byline_texts, credit, meta.site_names, url)
    if src:
        prov["authors"] = src
    return names


def host_of(url: str) -> str:
    return urls.host_of(url)

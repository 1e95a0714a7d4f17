"""The body stage: the article's text blocks, with how sure we are of them.

The main-block finder (:mod:`feeder.extract.content`) picks one container per page. Where its
choice looks weak (little text, few paragraphs, or a small share of the page's paragraph text),
a second opinion is taken from trafilatura, and the candidate with more text is kept: the usual
failure of a block finder is a block that is too small (a teaser, one section of a page, nothing),
and a second extractor that finds clearly more text has found the text the first one missed.
The second opinion costs a second parse and extraction, so it is spent only where confidence is
low. What was chosen, and why, is returned as :class:`BodyChoice` and goes into ``provenance``.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from html import escape

from lxml import etree

from feeder.extract import rules
from feeder.extract.content import (
    Block,
    body_text,
    is_inside,
    norm_space,
    render,
    text_of,
    to_html,
    to_text,
    vis_len,
)

log = logging.getLogger(__name__)

# The finder's choice is trusted when it gives at least this much text ...
CONFIDENT_CHARS = 1000
# ... in at least this many real paragraphs (of PARAGRAPH_CHARS or more) ...
CONFIDENT_PARAGRAPHS = 3
PARAGRAPH_CHARS = 80
# ... holding at least this share of the paragraph text of the whole (pruned) page. A short
# text is trusted too when it is nearly all the readable text of the page (a short article).
CONFIDENT_SHARE = 0.5
WHOLE_PAGE = 0.9
# ... and holding at least this share of the page's long paragraphs.
CONFIDENT_COVER = 0.5
# The second opinion wins when it holds this much more of the page's paragraphs, or ...
COVER_MARGIN = 0.5
# ... when it has at least this much more text ...
SECOND_OPINION_MARGIN = 1.1
# ... and, when ours is a real text (AGREEMENT_CHARS or more), holds half of its words: two
# texts that disagree are two readings of the page, and the finder's is the better one on the
# development sets.
AGREEMENT_CHARS = 500
AGREEMENT = 0.5
# Lines shorter than this (dates, labels, bylines) and tables (a layout table holds the whole
# page) are no evidence of text.
SHORT_LINE = 30
# A second opinion with less text than this found a header line or a title, not an article.
MIN_SECOND_OPINION = 100
# A caption's credit ("Ảnh: Trí Nhân") is at most this long.
CREDIT_CHARS = 60
_TEXT_KINDS = frozenset(("p", "h", "quote", "ul", "ol", "pre"))
_WORDS_RE = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the confidence of a body candidate rests on."""

    chars: int  # characters of the candidate's text
    paragraphs: int  # paragraphs of PARAGRAPH_CHARS characters or more
    page_chars: int  # characters of all paragraph text in the page (after pruning)
    page_text: int  # characters of all text outside links in the page (after pruning)
    # The share of the page's long paragraphs (by characters) that the candidate holds: a block
    # with plenty of text that holds none of the page's paragraphs is another box (a teaser
    # column), not the article. 1.0 when the page has no long paragraph.
    covered: float = 1.0

    @property
    def share(self) -> float:
        """The candidate's text as a share of the page's paragraph text (1.0: no such text)."""
        return min(1.0, self.chars / self.page_chars) if self.page_chars else 1.0

    @property
    def whole(self) -> float:
        """The candidate's text as a share of all the page's text outside links."""
        return min(1.0, self.chars / self.page_text) if self.page_text else 0.0

    @property
    def confidence(self) -> float:
        """0 (nothing) to 1 (enough text in enough paragraphs, or nearly all of the page's
        text; and a fair share of its paragraph text), each measured against its bar."""
        size = min(self.chars / CONFIDENT_CHARS, self.paragraphs / CONFIDENT_PARAGRAPHS)
        return min(1.0, max(size, self.whole / WHOLE_PAGE), self.share / CONFIDENT_SHARE,
                   self.covered / CONFIDENT_COVER)

    def reasons(self) -> tuple[str, ...]:
        """Why the confidence is below 1, in words (empty when it is not)."""
        out: list[str] = []
        if self.whole < WHOLE_PAGE and self.chars < CONFIDENT_CHARS:
            out.append(f"{self.chars} characters of text")
        if self.whole < WHOLE_PAGE and self.paragraphs < CONFIDENT_PARAGRAPHS:
            out.append(f"{self.paragraphs} paragraphs")
        if self.share < CONFIDENT_SHARE:
            out.append(f"{self.share:.0%} of the page's paragraph text")
        if self.covered < CONFIDENT_COVER:
            out.append(f"{self.covered:.0%} of the page's paragraphs")
        return tuple(out)


@dataclass(frozen=True, slots=True)
class BodyChoice:
    """The blocks chosen as the article's body, where they came from, and the evidence."""

    blocks: tuple[Block, ...]
    source: str  # "main-block" | "trafilatura" | "none"
    confidence: float
    evidence: Evidence
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """What the page offers a reader (after pruning): the measure of a candidate."""

    chars: int  # visible characters of every <p>
    text: int  # visible characters of all text outside links
    paragraphs: tuple[tuple[etree._Element, int], ...]  # the long <p>s, with their sizes


def evidence(blocks: list[Block], page: Page, main: etree._Element | None = None) -> Evidence:
    """The evidence for ``blocks`` on ``page``: rendered from the container ``main`` of the
    page's tree, or (``None``) from another reading of the page, matched by text."""
    text_blocks = [b for b in blocks if b.kind in _TEXT_KINDS and len(b.text) >= SHORT_LINE]
    total = sum(size for _, size in page.paragraphs)
    if not total:
        covered = 1.0
    elif main is not None:
        covered = sum(size for p, size in page.paragraphs
                      if p is main or is_inside(p, main)) / total
    else:
        # Both sides as the body's text is written (soft hyphens gone): a paragraph's raw text
        # with its hyphenation hints would never be found in a rendered reading.
        held = " ".join(body_text(b.text) for b in blocks if b.kind != "figure")
        covered = sum(size for p, size in page.paragraphs
                      if body_text(text_of(p)) in held) / total
    return Evidence(chars=sum(vis_len(b.text) for b in text_blocks),
                    paragraphs=sum(1 for b in text_blocks if len(b.text) >= PARAGRAPH_CHARS),
                    page_chars=page.chars, page_text=page.text, covered=covered)


def page_chars(tree: etree._Element) -> Page:
    """Visible characters of every ``<p>`` of the (pruned) page, and of all its text outside
    links (the text a reader could read); the long paragraphs themselves."""
    root = tree.find("body")
    if root is None:
        root = tree
    linked = sum(vis_len(text_of(a)) for a in root.iter("a"))
    chars = 0
    long: list[tuple[etree._Element, int]] = []
    for p in root.iter("p"):
        size = vis_len(text_of(p))
        chars += size
        if size >= PARAGRAPH_CHARS:
            long.append((p, size))
    return Page(chars, vis_len(text_of(root)) - linked, tuple(long))


def choose(blocks: list[Block], tree: etree._Element, page: str | bytes | None, base: str,
           main: etree._Element | None = None) -> BodyChoice:
    """The body: the finder's ``blocks`` (rendered from ``main``) when they are convincing, else
    the better of them and trafilatura's reading of the original ``page`` (``None``: no second
    opinion)."""
    page_size = page_chars(tree)
    ours = evidence(blocks, page_size, main)
    confidence = ours.confidence
    # (The second opinion is a named rule so that bench/accuracy.py --rules can weigh it.)
    if confidence >= 1.0 or page is None or not rules.applies("second-opinion"):
        return BodyChoice(tuple(blocks), "main-block" if blocks else "none", confidence, ours,
                          ours.reasons())
    figures = [b for b in blocks if b.kind == "figure"]
    # trafilatura reads captions as paragraphs; ours are captions of our pictures.
    captions = tuple(norm_space(b.image.caption) for b in figures
                     if b.image is not None and b.image.caption)
    second = [b for b in second_opinion(page, base) if not _is_caption(b.text, captions)]
    theirs = evidence(second, page_size)
    more = theirs.chars >= MIN_SECOND_OPINION and theirs.chars > SECOND_OPINION_MARGIN * ours.chars
    # A reading that holds the page's paragraphs where ours holds few of them found the article
    # where ours found another box, whichever is longer.
    found = theirs.chars >= MIN_SECOND_OPINION and theirs.covered >= ours.covered + COVER_MARGIN
    if found or (more and (ours.chars < AGREEMENT_CHARS
                          or _shared_words(blocks, second) >= AGREEMENT)):
        why = (*ours.reasons(), f"trafilatura found {theirs.chars} characters")
        # Our pictures stay: trafilatura's reading is asked for text only.
        return BodyChoice((*figures, *second), "trafilatura", confidence, theirs, why)
    return BodyChoice(tuple(blocks), "main-block" if blocks else "none", confidence, ours,
                      ours.reasons())


def _is_caption(text: str, captions: tuple[str, ...]) -> bool:
    """The text is one of the captions (perhaps with its credit after it), not a paragraph that
    happens to start like one."""
    return any(text.startswith(c) and len(text) <= len(c) + CREDIT_CHARS for c in captions)


def _shared_words(ours: list[Block], theirs: list[Block]) -> float:
    """The share of our words (counted with repeats) that the other text holds too."""
    mine = Counter(_WORDS_RE.findall(to_text(ours).lower()))
    other = Counter(_WORDS_RE.findall(to_text(theirs).lower()))
    total = sum(mine.values())
    return sum((mine & other).values()) / total if total else 0.0


def second_opinion(page: str | bytes, base: str) -> list[Block]:
    """trafilatura's main text of ``page``, rendered into our blocks ([] when it finds none)."""
    from trafilatura import extract as trafilatura_extract

    from feeder.extract.core import parse

    try:
        found = trafilatura_extract(page, url=base or None, output_format="html",
                                    with_metadata=False, include_comments=False,
                                    include_tables=True, include_images=False)
    except Exception as exc:  # a second opinion that fails is no opinion; ours stands
        log.debug("trafilatura failed on %s: %s", base, exc)
        return []
    if not found:
        return []
    tree = parse(found)
    root = tree.find("body")
    return render(root if root is not None else tree, base, flat=True)


def lead_only(lead: str | None, figures: list[Block]) -> list[Block]:
    """The body of an item whose text was not found: its lead (if any) and its pictures."""
    return [*([Block("p", lead, escape(lead))] if lead else []), *figures]


def lead_only_html(blocks: list[Block], url: str, headline: str) -> str:
    """HTML of a lead-only body: the lead, then a link to the article on its site, so that the
    item is never published empty."""
    link = Block("p", headline, f'<a href="{escape(url)}">{escape(headline)}</a>')
    return to_html([*blocks, link])

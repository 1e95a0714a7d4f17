"""What HTML may reach a feed, and plain text that must stay plain.

One allow-list (nh3, the Rust ``ammonia`` sanitiser) for every HTML field: extraction cleans with
it, and publishing cleans again, so a record from any path (an older database, another
extractor) cannot put script, event handlers, ``javascript:``/``data:`` URLs, iframes, SVG or
MathML into a feed. Text fields (titles, names, summaries) are stripped of any markup.

:func:`xml_safe` is the one place where text entering an lxml tree loses the characters XML 1.0
cannot hold (the extractor's parse step calls it on every page): everything downstream may then
move text between elements freely.
"""

from __future__ import annotations

import html
import re

import nh3

from feeder.urls import is_private_url

ALLOWED_TAGS = frozenset({
    "p", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code", "figure",
    "figcaption", "img", "a", "b", "strong", "i", "em", "u", "sup", "sub", "br", "table", "thead",
    "tbody", "tr", "td", "th", "caption", "q", "cite", "small", "mark", "abbr", "s", "del", "ins",
    "hr"})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"},
                      "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"},
                      "abbr": {"title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_SPACE = re.compile(r"\s+")
# On sanitize_html's output, which always writes attributes as name="value".
_IMG_RE = re.compile(r"<img\b[^>]*?\ssrc=\"([^\"]*)\"[^>]*>")
# Not allowed in XML 1.0 (section 2.2): C0 controls but TAB/LF/CR, lone surrogates and the two
# non-characters U+FFFE/U+FFFF. Word's vertical tab (\x0b, a line break) and form feed (\x0c)
# are common in pasted Vietnamese text and read as spaces.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_AS_SPACE = str.maketrans({"\x0b": " ", "\x0c": " "})


def xml_safe(text: str) -> str:
    """``text`` with the characters XML cannot hold removed (vertical tab and form feed become
    spaces, like the line breaks they stand for)."""
    if not _NOT_XML_RE.search(text):
        return text  # the common case: no copy of a whole page
    return _NOT_XML_RE.sub("", text.translate(_AS_SPACE))


def sanitize_html(fragment: str) -> str:
    """``fragment`` with only allow-listed tags, attributes and URL schemes left."""
    return nh3.clean(fragment, tags=set(ALLOWED_TAGS),
                     attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer")


def without_private_images(fragment: str, page_url: str) -> str:
    """Sanitised ``fragment`` without the images a public page points at private addresses.

    ``http://169.254.169.254/...``, loopback, RFC 1918, link-local, IPv6 ULA: a reader's client
    would fetch them inside the reader's own network. Judged on the literal host, without DNS.
    A page that is itself on a private host (an intranet source, the demo) keeps its images.
    """
    if "<img" not in fragment or is_private_url(page_url):
        return fragment
    return _IMG_RE.sub(lambda m: "" if is_private_url(html.unescape(m.group(1))) else m.group(0),
                       fragment)


def plain_text(text: str) -> str:
    """``text`` without any markup: tags dropped (their text kept), entities decoded, spaces folded.

    For fields a reader sees as text (title, author, summary): markup there is either an
    extraction slip or an attack, never meant to render.
    """
    if "<" not in text and "&" not in text:
        return _SPACE.sub(" ", text).strip()
    stripped = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    return _SPACE.sub(" ", html.unescape(stripped)).strip()


def cap_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis.

    A word longer than a fifth of the limit is cut inside (a 10,000-character "word" must not
    reach a feed whole either).
    """
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit * 4 // 5:
        head = head[:space]
    return head.rstrip(" ,;:-–—") + "…"

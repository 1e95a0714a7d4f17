"""What HTML may reach a feed, and plain text that must stay plain.

One allow-list (nh3, the Rust ``ammonia`` sanitiser) for every HTML field: extraction cleans with
it, and publishing cleans again, so a record from any path (an older database, another
extractor) cannot put script, event handlers, ``javascript:``/``data:`` URLs, iframes, SVG or
MathML into a feed. Text fields (titles, names, summaries) are stripped of any markup.
"""

from __future__ import annotations

import html
import re

import nh3

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


def sanitize_html(fragment: str) -> str:
    """``fragment`` with only allow-listed tags, attributes and URL schemes left."""
    return nh3.clean(fragment, tags=set(ALLOWED_TAGS),
                     attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer")


def plain_text(text: str) -> str:
    """``text`` without any markup: tags dropped (their text kept), entities decoded, spaces folded.

    For fields a reader sees as text (title, author, summary): markup there is either an
    extraction slip or an attack, never meant to render.
    """
    if "<" not in text and "&" not in text:
        return _SPACE.sub(" ", text).strip()
    stripped = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    return _SPACE.sub(" ", html.unescape(stripped)).strip()

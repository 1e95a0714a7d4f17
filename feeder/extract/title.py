"""The headline: the article's own, never with a site-name prefix or suffix.

The visible h1 wins when it matches a metadata title (equal, or the metadata title is the h1 plus
a site name); otherwise the structured headline, then OpenGraph / ``<title>`` with the site name cut
off. A part is a site name when it matches ``og:site_name`` / the JSON-LD publisher or the host.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_SEPARATORS_RE = re.compile(r"\s+[|\-–—·•»:/]\s+|\s*[|·•»]\s*")
_QUOTES_RE = re.compile(r"[\u2018\u2019\u201c\u201d\"'«»]")


def norm(text: str) -> str:
    """Comparison form: NFC, case-folded, quotes dropped, spaces folded."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_QUOTES_RE.sub("", text).split())


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", norm(text))


def _is_site_part(part: str, sites: list[str], host: str) -> bool:
    p = _squash(part)
    if not p:
        return True
    for s in sites:
        q = _squash(s)
        if q and (p == q or (len(p) >= 3 and (p in q or q in p))):
            return True
    return bool(host) and len(p) >= 3 and (p in host or host.startswith(p))


def strip_site(title: str, sites: list[str], url: str) -> str:
    """``title`` without "| Site" / "Site - " parts (only parts that name the site)."""
    host = re.sub(r"[\W_]+", "", (urlsplit(url).hostname or "").removeprefix("www.").rsplit(
        ".", 1)[0].lower())
    parts = _SEPARATORS_RE.split(title)
    if len(parts) < 2:
        return title.strip()
    seps = _SEPARATORS_RE.findall(title)
    # Peel site-name parts from both ends.
    start, end = 0, len(parts)
    while end - start > 1 and _is_site_part(parts[end - 1], sites, host):
        end -= 1
    while end - start > 1 and _is_site_part(parts[start], sites, host):
        start += 1
    if (start, end) == (0, len(parts)):
        return title.strip()
    out = parts[start]
    for i in range(start + 1, end):
        out += seps[i - 1] + parts[i]
    return out.strip()


def choose(h1s: list[str], candidates: list[tuple[str, str]], doc_title: str | None,
           sites: list[str], url: str) -> tuple[str, str] | None:
    """The headline and its provenance."""
    metas = [(t, src) for t, src in candidates if t]
    if doc_title:
        metas.append((doc_title, "title"))
    cleaned = [(strip_site(t, sites, url), src) for t, src in metas]
    meta_norms = {norm(t) for t, _ in metas} | {norm(t) for t, _ in cleaned}
    for h in h1s:
        nh = norm(h)
        if not nh:
            continue
        if nh in meta_norms:
            return h, "h1"
    for h in h1s:
        nh = norm(h)
        if len(nh) >= 10 and any(nh in m for m in meta_norms):
            return h, "h1"
    if cleaned:
        return cleaned[0]
    if h1s:
        return h1s[0], "h1"
    return None

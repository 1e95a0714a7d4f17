"""Authors: cleaning names from structured data and bylines, and Vietnamese credit lines.

A Vietnamese article often names its reporters in a credit line at the top or the end of the body:
"Tin, ảnh: TRÍ NHÂN", "Bài và ảnh: HOÀNG ANH - MINH THƯ" (two authors), "Tin: ...". Names in
capitals become title case ("Trí Nhân"). "Theo TTXVN" and "Nguồn: ..." credit a source, not
an author.
"""

from __future__ import annotations

import re

# Leading words of a byline in the languages we meet ("By", "Von", "Tác giả:" ...).
_PREFIX_RE = re.compile(
    r"^\s*(?:written\s+by|posted\s+by|reported\s+by|story\s+by|words\s+by|by|von|par|por|di|door|"
    r"av|af|tekst|texto|text|autor(?:in)?|author|tác giả|bài|viết bởi)\s*[:\-]?\s+",
    re.IGNORECASE)
# Splits a byline into names: commas, "and", "&", "und", "và", " - " between capitalised names.
_SPLIT_RE = re.compile(
    r"\s*(?:,|;|/|\s&\s|\band\b|\bund\b|\bet\b|\by\b|\bvà\b|\be\b|\bog\b|\boch\b|\ben\b|"
    r"\s[-–—]\s|\|)\s*",
    re.IGNORECASE)
_NOT_NAME_RE = re.compile(
    r"@|https?://|www\.|\.com\b|\d{2,}|^(?:admin|administrator|staff|redaktion|editor|editorial|"
    r"newsroom|guest|unknown|anonymous|team|desk)$",
    re.IGNORECASE)
_URL_RE = re.compile(r"https?://|www\.|\w@\w")
# Trailing role or place after a name: "John Smith, Reporter", "Jane Doe (dpa)".
_TRAIL_RE = re.compile(r"\s*(?:\(.*?\)|\[.*?\]|기자|記者|특파원|reporter|correspondent|"
                       r"staff writer|redakteur(?:in)?)\s*$", re.IGNORECASE)
# Particles that stay lower-case inside a name ("Ursula von der Leyen", "Lê Văn de Souza").
_PARTICLES = {"von", "van", "der", "den", "de", "da", "di", "du", "del", "la", "le", "bin", "al",
              "y", "dos", "das", "ter", "zu", "af"}


def smart_title(name: str) -> str:
    """Title-case a name written in capitals ("TRÍ NHÂN" -> "Trí Nhân"); leave mixed case alone."""
    letters = [c for c in name if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 2:
        return " ".join(w[:1].upper() + w[1:].lower() if w else w for w in name.split(" "))
    return name


def clean_name(raw: str) -> str | None:
    """One author name, or None when the text is not a plausible person or desk name."""
    name = re.sub(r"\s+", " ", raw).strip(" \t\n,.;:|-–—·•")
    name = _PREFIX_RE.sub("", name)
    name = _TRAIL_RE.sub("", name).strip(" ,.;:|-–—")
    if not name or len(name) > 60 or _NOT_NAME_RE.search(name):
        return None
    if len(name.split()) > 6:
        return None
    return smart_title(name)


def looks_like_name(name: str) -> bool:
    """A visible byline part that reads as a person's name: 2-5 capitalised words."""
    words = name.split()
    if not 2 <= len(words) <= 5 or any(c in name for c in "?!:;\"“”«»"):
        return False
    return all(w[:1].isupper() or w.lower() in _PARTICLES or not w[:1].isalpha() for w in words)


def split_names(raw: str) -> list[str]:
    """A byline string into cleaned names, in order, without repeats."""
    text = _PREFIX_RE.sub("", re.sub(r"\s+", " ", raw).strip())
    if _URL_RE.search(text):  # an author page URL is not a byline (and "/" would split it)
        return []
    names: list[str] = []
    for part in _SPLIT_RE.split(text):
        name = clean_name(part or "")
        if name and name not in names:
            names.append(name)
    return names


# --- Vietnamese credit lines -------------------------------------------------------------------
# "Tin, ảnh: X", "Bài và ảnh: X", "Bài, ảnh: X", "Tin: X", "Bài: X", "Nhóm PV", "Tin và ảnh: X".
_CREDIT_RE = re.compile(
    r"^\s*(?:(?:tin|bài|bài viết|ghi chép|ảnh|clip|video|thực hiện)"
    r"(?:\s*(?:,|và|&|\+|-)\s*(?:ảnh|clip|video|tin|bài))*)\s*:\s*(?P<names>.+?)\s*\.?\s*$",
    re.IGNORECASE)
# Source credits, not authors: "Theo TTXVN", "Nguồn: VTV", "(Theo Reuters)".
_SOURCE_RE = re.compile(r"^\s*\(?\s*(?:theo|nguồn|source|quelle)\b", re.IGNORECASE)
_VN_NAME_SPLIT_RE = re.compile(r"\s*(?:,|;|\s[-–—]\s|\bvà\b|&|/)\s*", re.IGNORECASE)


def credit_line(text: str) -> list[str] | None:
    """The authors named by a Vietnamese credit line, or None when ``text`` is not one."""
    line = re.sub(r"\s+", " ", text).strip()
    if not line or len(line) > 90 or _SOURCE_RE.match(line):
        return None
    m = _CREDIT_RE.match(line)
    if m is None:
        return None
    names = [clean_name(p) for p in _VN_NAME_SPLIT_RE.split(m.group("names"))]
    result = [n for n in names if n]
    return result or None


def is_source_credit(text: str) -> bool:
    """True for "Theo TTXVN", "Nguồn: ..." lines: credits that are not authors."""
    line = text.strip()
    return len(line) < 90 and bool(_SOURCE_RE.match(line))


def lone_name(text: str) -> list[str] | None:
    """A last paragraph that is only a name in capitals ("TRÍ NHÂN", "HOÀNG ANH - MINH THƯ")."""
    line = re.sub(r"\s+", " ", text).strip(" .")
    if not line or len(line) > 50 or _SOURCE_RE.match(line):
        return None
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 4 or not all(c.isupper() for c in letters):
        return None
    if any(ch.isdigit() for ch in line):
        return None
    parts = [clean_name(p) for p in _VN_NAME_SPLIT_RE.split(line)]
    names = [p for p in parts if p and 1 <= len(p.split()) <= 5]
    return names or None

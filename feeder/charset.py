"""Bytes to text for HTML pages: BOM, then the HTTP header, then ``<meta>``, then detection.

A wrong header is common on small news sites (a server that says ISO-8859-1 for UTF-8 pages), so
the header is trusted only when the body decodes cleanly with it, and UTF-8 wins over a Western
single-byte label when the body is valid UTF-8 with multi-byte sequences (those never happen by
accident). Vietnamese legacy pages in windows-1258 carry tone marks as combining characters; the
result is always NFC-normalised so that "ệ" is one code point whatever the page used.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

_META_RE = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
# Labels that browsers treat as windows-1252 (WHATWG Encoding Standard).
_WESTERN = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "ascii", "us-ascii",
            "cp1252", "windows-1252", "iso-8859-15"}
_ALIASES = {**dict.fromkeys(_WESTERN, "cp1252"), "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8",
            "x-sjis": "shift_jis", "gb2312": "gb18030", "gbk": "gb18030", "tcvn": "cp1258",
            "windows-1258": "cp1258", "tis-620": "cp874"}


def codec_name(label: str | None) -> str | None:
    """The Python codec for a charset label, or ``None`` when the label is unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def meta_charset(body: bytes) -> str | None:
    """The charset a page declares in its own ``<meta>`` (first 64 KiB)."""
    m = _META_RE.search(body[:65536])
    return m.group(1).decode("ascii", "replace") if m else None


def _strict(body: bytes, codec: str | None) -> str | None:
    if not codec:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _has_multibyte_utf8(body: bytes) -> bool:
    # Any non-ASCII byte; whether it is valid UTF-8 is left to the strict decode of the candidate.
    return not body[:65536].isascii()


def decode_html(body: bytes, header_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML page; returns ``(text, codec used)``. Text is NFC-normalised."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _nfc(body[len(bom):].decode(codec, "replace")), codec

    header = codec_name(header_charset)
    meta = codec_name(meta_charset(body))
    candidates: list[str] = []
    if header == "cp1252" and _has_multibyte_utf8(body):
        # A Western label on a body that is valid UTF-8 is the classic misconfigured server.
        candidates.append("utf-8")
    if header == "cp1252" and meta and meta != "cp1252":
        # A Western label is most often a server's default, not the author's choice; a page that
        # declares another charset itself (windows-1258, say) knows better. Strict decoding below
        # still falls back to the header when the page's claim does not fit its bytes.
        candidates.append(meta)
    candidates += [c for c in (header, meta) if c]
    candidates.append("utf-8")
    for codec in dict.fromkeys(candidates):
        text = _strict(body, codec)
        if text is not None:
            return _nfc(text), codec

    detected = _detect(body)
    codec = detected or meta or header or "utf-8"
    return _nfc(body.decode(codec, "replace")), codec


def _detect(body: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - charset_normalizer ships with requests
        return None
    best = from_bytes(body[:200_000]).best()
    return codec_name(best.encoding) if best else None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)

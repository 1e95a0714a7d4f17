"""Image captions from structured data: JSON-LD ``ImageObject`` entries (``caption``,
``description``, else a sentence-like ``name``; ``creditText``).

Many CMSs write the photo caption only into the article's JSON-LD (the visible one is rendered by
scripts). The structured entry rarely has the same URL as the ``<img>`` (another size, another
CDN path), so images are matched by the identifiers in their paths: a long token with digits
(a media id) or the file name without its size suffix.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from lxml import etree

from feeder.model import Image

_ID_RE = re.compile(r"[A-Za-z0-9]*\d[A-Za-z0-9]*")
_SIZE_RE = re.compile(r"^(?:\d{2,4}x\d{2,4}|w\d+|h\d+|\d{2,4})$")
_STEM_SIZE_RE = re.compile(r"(?:[-_](?:\d{2,4}x\d{2,4}|scaled|large|medium|small|thumb\w*))+$",
                           re.IGNORECASE)


def _keys(url: str) -> set[str]:
    try:
        path = urlsplit(url).path
    except ValueError:  # an unclosed IPv6 bracket: no id to match on
        return set()
    keys = {t for t in _ID_RE.findall(path) if len(t) >= 6 and not _SIZE_RE.match(t)}
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = _STEM_SIZE_RE.sub("", stem)
    if len(stem) >= 8:
        keys.add(stem.lower())
    return keys


def _text(value: object) -> str | None:
    if isinstance(value, str):
        text = " ".join(value.split())
        return text or None
    if isinstance(value, dict):
        return _text(value.get("name"))
    if isinstance(value, list) and value:
        return _text(value[0])
    return None


def _sentence(text: str | None) -> str | None:
    """A ``name`` that reads as a caption (some CMSs keep the caption there), not a file name or
    a two-word label."""
    if text and text.count(" ") >= 4 and not re.search(r"\.(?:jpe?g|png|webp|gif)\b", text, re.I):
        return text
    return None


def _walk(node: object, out: list[tuple[str, str, str | None]]) -> None:
    if isinstance(node, list):
        for item in node[:50]:
            _walk(item, out)
        return
    if not isinstance(node, dict):
        return
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    if "ImageObject" in types:
        url = _text(node.get("contentUrl")) or _text(node.get("url"))
        caption = (_text(node.get("caption")) or _text(node.get("description"))
                   or _sentence(_text(node.get("name"))))
        if url and caption and len(caption) >= 3:
            credit = (_text(node.get("creditText")) or _text(node.get("copyrightHolder"))
                      or _text(node.get("author")))
            out.append((url, caption, credit))
    for key in ("image", "associatedMedia", "@graph", "mainEntity", "primaryImageOfPage"):
        if key in node:
            _walk(node[key], out)


def jsonld_captions(tree: etree._Element) -> list[tuple[str, str, str | None]]:
    """(url, caption, credit) of every captioned ``ImageObject`` in the page's JSON-LD."""
    out: list[tuple[str, str, str | None]] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        _walk(data, out)
    return out


def with_captions(images: list[Image], captions: list[tuple[str, str, str | None]],
                  og_image: str | None) -> list[Image]:
    """``images`` with captions filled in from structured data where a picture has none.

    A structured caption whose picture is not among ``images`` describes the lead picture: it is
    added when it is the page's og:image (same identifiers) or when no picture was found at all.
    """
    if not captions:
        return images
    out = list(images)
    used: set[int] = set()
    for n, img in enumerate(out):
        keys = _keys(img.url)
        for idx, (url, caption, credit) in enumerate(captions):
            if idx in used or not keys & _keys(url):
                continue
            used.add(idx)
            if not img.caption:
                out[n] = Image(url=img.url, caption=caption, credit=img.credit or credit,
                               alt=img.alt)
            break
    og_keys = _keys(og_image) if og_image else set()
    for idx, (url, caption, credit) in enumerate(captions):
        if idx in used:
            continue
        if (og_keys and og_keys & _keys(url)) or not out:
            out.append(Image(url=url, caption=caption, credit=credit))
        break  # only the first structured picture can be the lead one
    return out

"""The listing page behind ``feeder links FILE_OR_URL``: fetched politely, or read from a file.

A URL goes through :class:`feeder.fetch.Fetcher` (robots.txt, User-Agent, size limits) exactly as
a poll fetches a listing; a file is decoded the way a fetched body is (``feeder.charset``), so the
links printed are the links a source would follow.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feeder.charset import decode_html
from feeder.errors import ConfigError, FeederError
from feeder.model import NotModified, Page
from feeder.pagefile import read_page

if TYPE_CHECKING:
    from feeder.fetch import Kind


def is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def fetch_page(url: str, kind: Kind = "listing") -> Page:
    """``url`` fetched as a poll fetches a ``kind`` page, with default settings; loopback
    addresses are allowed (``feeder links`` and ``feeder extract`` given a URL)."""
    from feeder import config
    from feeder.fetch import Fetcher, is_public_host

    with Fetcher(config.Settings()) as fetcher:
        page = fetcher.get(url, kind=kind,
                           allow_private=not is_public_host(urlsplit(url).hostname or ""))
    if isinstance(page, NotModified):  # no validators were sent, so a 304 is the server's error
        raise FeederError(f"{url}: server answered 304 Not Modified to a plain request")
    return page


def read_listing(path: Path, url: str | None) -> Page:
    """A saved page (``.gz`` too) as if served at ``url``, else at the canonical URL it states.

    Discovery keeps links on the listing's own site, so a file needs an http(s) address.
    """
    if url is not None and not is_url(url):
        raise ConfigError(f"--url must be an http(s) URL, got {url!r}")
    data = read_page(path)  # capped at max_bytes: /dev/zero or a gzip bomb end with an error
    text, encoding = decode_html(data)
    address = url or _stated_url(text)
    if address is None:
        raise ConfigError(f"{path}: give --url URL (the page's address); the page states no "
                          "canonical http(s) URL")
    return Page(url=address, final_url=address, status=200, content=data, text=text,
                encoding=encoding)


_CANONICAL_RE = re.compile(
    r"""<link\b[^>]*\brel=["']?canonical["']?[^>]*>|<meta\b[^>]*\bproperty=["']og:url["'][^>]*>""",
    re.IGNORECASE)
_HREF_RE = re.compile(r"""\b(?:href|content)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def _stated_url(text: str) -> str | None:
    """The page's ``rel=canonical`` or ``og:url`` when it is an absolute http(s) URL."""
    for tag in _CANONICAL_RE.finditer(text):
        href = _HREF_RE.search(tag.group(0))
        if href and is_url(href.group(1).strip()):
            return href.group(1).strip()
    return None

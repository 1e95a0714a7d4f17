"""URL hygiene shared by discovery, extraction and the store.

One article reached through two URLs (a tracking parameter, a fragment, ``HTTP`` vs ``http``) must
be one item, so every URL is cleaned the same way before it is compared or stored.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never a page.
_TRACKING_RE = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|_ga|_gl|igshid|"
    r"ref_src|ref_url|cmpid|ncid|ocid|sr_share|spm|zarsrc|zalo_source|__twitter_impression|"
    r"_hsenc|_hsmi|mkt_tok|vero_id|oly_enc_id|oly_anon_id|s_cid|trk|trkcampaign|at_medium|"
    r"at_campaign|at_source|xtor|ito)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def clean_url(url: str, base: str | None = None) -> str:
    """Absolute URL without fragment, tracking parameters, default port or empty query.

    Scheme and host are lower-cased; the path and the remaining query keep their case and order.
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and str(parts.port) != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    if parts.username:
        host = f"{parts.username}{':' + parts.password if parts.password else ''}@{host}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _TRACKING_RE.match(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def try_clean_url(url: str, base: str | None = None) -> str | None:
    """:func:`clean_url`, or ``None`` for a URL that cannot be parsed (``http://[::1/x``)."""
    try:
        return clean_url(url, base)
    except ValueError:
        return None


def absolute_url(url: str, base: str) -> str | None:
    """``url`` resolved against ``base``, or ``None`` when either cannot be parsed."""
    try:
        return urljoin(base, url.strip())
    except ValueError:  # e.g. "http://[::1/x": an unclosed IPv6 bracket
        return None


def host_of(url: str) -> str:
    """The lower-cased host name of ``url``; "" when there is none or it cannot be parsed."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on the same host, ignoring a leading ``www.``."""
    host = host_of(url).removeprefix("www.")
    return host != "" and host == host_of(other).removeprefix("www.")

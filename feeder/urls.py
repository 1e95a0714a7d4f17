"""URL hygiene shared by discovery, extraction and the store.

One article reached through two URLs (a tracking parameter, a fragment, ``HTTP`` vs ``http``) must
be one item, so every URL is cleaned the same way before it is compared or stored.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never a page.
_TRACKING_RE = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|_ga|_gl|igshid|"
    r"ref_src|ref_url|cmpid|ncid|ocid|sr_share|spm|zarsrc|zalo_source|__twitter_impression|"
    r"_hsenc|_hsmi|mkt_tok|vero_id|oly_enc_id|oly_anon_id|s_cid|trk|trkcampaign|at_medium|"
    r"at_campaign|at_source|xtor|ito|ref|referrer)$",
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
    if ":" in host:  # an IPv6 literal keeps its brackets (urlsplit's hostname drops them)
        host = f"[{host}]"
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


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Names that mean "this machine" or "this network" without asking DNS (RFC 6761, RFC 6762).
_LOCAL_NAMES_RE = re.compile(r"(?:^|\.)(?:localhost|local|internal|home\.arpa)\.?$")


def is_public_ip(ip: IPAddress) -> bool:
    """False for any address that is not globally routable: private (RFC 1918, fc00::/7),
    loopback, link-local, CGNAT, reserved, multicast, and the IPv4-mapped forms of those."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_ip(host: str) -> IPAddress | None:
    """The address ``host`` spells without any DNS lookup, or ``None`` for a name.

    Besides dotted quads and IPv6 (brackets allowed), the legacy IPv4 forms browsers still
    accept count: ``2852039166``, ``0xA9.0xFE.0xA9.0xFE``, ``127.1``.
    """
    host = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not host or not re.fullmatch(r"[0-9a-fA-FxX.]+", host) or not host[0].isdigit():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def is_private_url(url: str) -> bool:
    """True when ``url``'s host is, literally, a non-public address or a local-only name.

    No DNS lookup (for publishing, where a lookup would be slow and say nothing about the
    reader's network): ``http://169.254.169.254/``, ``http://[fd00::1]/``, ``http://localhost/``.
    A URL that cannot be parsed counts as private: it is not worth showing.
    """
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return True
    if not host:
        return False  # a relative URL: resolved against the page, whose host was checked
    ip = literal_ip(host)
    if ip is not None:
        return not is_public_ip(ip)
    return bool(_LOCAL_NAMES_RE.search(host))


def is_private_from_public(url: str, page_url: str) -> bool:
    """True when a public page points ``url`` at a private host (see :func:`is_private_url`);
    a page on a private host itself (an intranet source) may point within it."""
    return is_private_url(url) and not is_private_url(page_url)

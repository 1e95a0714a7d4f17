"""HTTP for feeder: the only module that talks to the network.

:class:`Fetcher` turns a URL into a :class:`~feeder.model.Page` (or
:class:`~feeder.model.NotModified` when the server answers 304 to a conditional GET) and raises
:class:`~feeder.errors.FetchError` naming the URL for everything else. One ``get`` does, in order::

    refuse non-http(s) URLs and hosts that resolve to private / loopback / link-local addresses
    robots.txt of the host (fetched once, cached for a day) -> disallowed? refuse
    wait for the host's slot: one request at a time per host, host_delay (or Crawl-delay) apart
    GET with If-None-Match / If-Modified-Since, redirects followed by hand (each hop checked again)
    stream the body: Content-Type checked first, size capped before AND after decompression,
    connect / read timeouts plus a total deadline per attempt
    decode: HTTP charset, then <meta>, then detection (feeder.charset.decode_html)
    (or, with stream(), hand the decoded chunks to a consumer as they arrive: a sitemap's
    parser, so that memory does not grow with the body; the same caps apply)
    transient failures (timeouts, resets, 429, 5xx) retried with exponential backoff and jitter;
    Retry-After honoured up to a cap, beyond it the error carries ``retry_after`` for the scheduler

Every number a server sends is bounded before it is used: Retry-After to a day, Crawl-delay to
``max_wait``. A caller may pass ``until`` (a time on the Fetcher's monotonic clock): no wait,
attempt, retry or request timeout then reaches past it, so one deadline bounds a whole poll.

The host name is resolved once: the addresses that passed the private-address check are the ones
connected to (the URL's host stays in the Host header and TLS SNI), so a DNS answer that changes
between the check and the connection (rebinding) cannot reach a private peer.

Politeness is per ``Fetcher``: keep one per process and share it between threads.
"""

from __future__ import annotations

import logging
import math
import random
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from protego import Protego
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as _URLLIB3_ERRORS

from feeder import clock
from feeder.charset import decode_html
from feeder.config import Settings
from feeder.errors import FetchError, FetchRefused
from feeder.model import CacheInfo, NotModified, Page
from feeder.urls import is_public_ip, literal_ip

__all__ = ["MAX_RETRY_AFTER", "FetchEvent", "FetchRefused", "Fetcher", "HostGate", "Kind",
           "Streamed", "bounded", "is_public_host", "parse_retry_after"]

log = logging.getLogger(__name__)

Kind = Literal["listing", "article", "robots", "sitemap", "feed"]
Sleeper = Callable[[float], None]
#: Reads a body as it arrives (decoded chunks) and returns what it made of it; see stream().
Consumer = Callable[[Iterator[bytes]], Any]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Sitemaps and feeds come as every XML type, text/plain, gzip files or octet-streams: their
# parser judges the bytes, the Content-Type is no evidence either way.
_XML_KINDS = frozenset({"sitemap", "feed"})
_ACCEPT = {
    "robots": "text/plain,*/*;q=0.5",
    "sitemap": "application/xml,text/xml;q=0.9,*/*;q=0.1",
    "feed": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,"
            "*/*;q=0.1",
}
_ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
# 501 Not Implemented and 505 are not going to change by asking again.
_NOT_RETRIED_5XX = frozenset({501, 505})
# RFC 9309 section 2.5: crawlers may stop parsing robots.txt after 500 KiB.
_ROBOTS_MAX_BYTES = 500 * 1024
_CHUNK = 64 * 1024
# A server asking to be left alone for longer than this is asked again after this long: a
# Retry-After of 9999-12-31 must not disable a source for good (issue 9).
MAX_RETRY_AFTER = 24 * 3600.0
# Addresses tried, in order, when connecting to one host fails (IPv6 without a route, ...).
_MAX_ADDRESSES = 3


@dataclass(frozen=True, slots=True)
class FetchEvent:
    """One HTTP exchange, for metrics (``Fetcher(on_exchange=...)``).

    ``outcome`` is "ok", "not_modified", "redirect", "error" (worth retrying later) or "refused"
    (a deliberate, permanent refusal). Retries, redirects and robots.txt fetches are exchanges of
    their own; refusals before any connection (robots rules, private addresses) are not reported.
    """

    url: str
    kind: str
    outcome: str
    status: int | None
    ms: float
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class Streamed:
    """A body read by a consumer as it arrived (:meth:`Fetcher.stream`): ``value`` is what the
    consumer returned, ``size`` the decoded bytes it was given."""

    url: str
    final_url: str
    status: int
    value: Any
    size: int
    content_type: str = ""
    cache: CacheInfo = field(default_factory=CacheInfo)
    moved_to: str | None = None


@dataclass(frozen=True, slots=True)
class _Redirect:
    to: str
    permanent: bool


@dataclass
class _Host:
    """Politeness state of one ``scheme://host:port``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    robots_lock: threading.Lock = field(default_factory=threading.Lock)
    next_allowed: float = 0.0  # monotonic time before which no request may start
    robots: Protego | None = None  # None: allow all (no robots.txt, or not checked)
    robots_fetched: float | None = None  # monotonic time of the last robots.txt fetch
    crawl_delay: float = 0.0


class RobotsCache(Protocol):
    """Where robots.txt rules outlive the process (the store), so that `feeder run --once` from
    cron does not ask every host for robots.txt on every run. ``body`` None means "allow all"."""

    def get_robots(self, origin: str) -> tuple[str | None, datetime] | None: ...

    def put_robots(self, origin: str, body: str | None, fetched_at: datetime) -> None: ...


class Turn(Protocol):
    def done(self) -> None: ...


class HostGate(Protocol):
    """Politeness shared beyond this process (``feeder.politeness``): :meth:`take_turn` blocks
    until no other worker is requesting the host and ``delay`` seconds have passed since the
    last request to it; the turn lasts until its ``done()``. ``timeout`` (seconds, None: none)
    bounds the wait: FetchError when the turn would start later. :meth:`hold_off` keeps
    everyone off a host (Retry-After)."""

    def take_turn(self, origin: str, delay: float, timeout: float | None = None) -> Turn: ...

    def hold_off(self, origin: str, seconds: float) -> None: ...


class Fetcher:
    """A polite, bounded HTTP client. Thread-safe; use as a context manager or call :meth:`close`.

    ``settings`` gives the User-Agent, timeouts, size cap, per-host delay and whether robots.txt is
    honoured. The keyword arguments exist for tests and tuning:

    - ``session``: a ``requests.Session`` to use (not closed by :meth:`close`).
    - ``sleep`` / ``monotonic``: the clock used for politeness and backoff waits.
    - ``retries``: extra attempts after a transient failure (0 disables retrying).
    - ``backoff``: first backoff in seconds, doubled per attempt, jittered by +-50 %.
    - ``max_wait``: the longest single wait (backoff, Retry-After, Crawl-delay); a Retry-After
      longer than this is not slept through: the error is raised with ``retry_after`` set.
    - ``deadline``: total seconds one attempt may take, connect to last byte (slow drips).
    - ``max_redirects``: hops followed before giving up.
    - ``resolver``: host -> IP addresses, for the private-address check.
    - ``on_exchange``: called with a :class:`FetchEvent` after every HTTP exchange (metrics).
    - ``gate``: politeness shared with other processes (workers), on top of this one's.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        sleep: Sleeper = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        retries: int = 3,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        deadline: float | None = None,
        max_redirects: int = 5,
        robots_ttl: float = 24 * 3600.0,
        resolver: Callable[[str], list[str]] | None = None,
        rng: random.Random | None = None,
        robots_cache: RobotsCache | None = None,
        on_exchange: Callable[[FetchEvent], None] | None = None,
        gate: HostGate | None = None,
    ) -> None:
        self.settings = settings
        self._own_session = session is None
        self.session = session if session is not None else _new_session()
        self.session.headers["User-Agent"] = settings.full_user_agent
        self._sleep = sleep
        self._monotonic = monotonic
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.deadline = deadline if deadline is not None else (
            settings.connect_timeout + 2 * settings.read_timeout)
        self.max_redirects = max_redirects
        self.robots_ttl = robots_ttl
        self._resolve = resolver or _resolve
        self._rng = rng or random.Random()
        self._robots_cache = robots_cache
        self.on_exchange = on_exchange
        self._gate = gate
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        # The product token ("feeder" in "feeder/0.1 (+url)") is what robots.txt groups name.
        self.robots_agent = settings.user_agent.split("/")[0].split()[0] or "*"

    # -- public -----------------------------------------------------------------------------

    def get(
        self,
        url: str,
        cache: CacheInfo | None = None,
        *,
        kind: Kind = "article",
        allow_private: bool = False,
        until: float | None = None,
    ) -> Page | NotModified:
        """Fetch ``url``; a 304 to the validators in ``cache`` gives :class:`NotModified`.

        ``kind`` "listing" and "article" accept only HTML and honour robots.txt; "robots" accepts
        any type, skips the robots check and caps the body at 500 KiB. ``allow_private`` lets the
        URL (and its redirects) resolve to private, loopback or link-local addresses: pass it only
        when the source's own listing URL is on such a host. ``until`` is a deadline on the
        Fetcher's monotonic clock that every wait, attempt and retry of this call stays within.

        ``kind`` "sitemap" and "feed" accept any Content-Type (their parser judges the bytes).

        Raises :class:`FetchError` (``.transient`` says whether trying later may help; a
        :class:`FetchRefused` is a deliberate refusal; ``.retry_after`` carries a server's
        Retry-After that was too long to wait for).
        """
        got = self._retrying(url, cache, kind=kind, allow_private=allow_private, consume=None,
                             until=until)
        assert not isinstance(got, Streamed)
        return got

    def stream(
        self,
        url: str,
        consume: Consumer,
        cache: CacheInfo | None = None,
        *,
        kind: Kind = "sitemap",
        allow_private: bool = False,
        max_bytes: int | None = None,
        until: float | None = None,
    ) -> Streamed | NotModified:
        """Fetch ``url`` like :meth:`get`, but hand the body to ``consume`` as it arrives.

        ``consume`` gets an iterator of decoded chunks (Content-Encoding undone) and returns a
        value, kept in :attr:`Streamed.value`; it runs inside the host's slot, so it should parse,
        not fetch. The body is capped at ``max_bytes`` (default ``settings.max_sitemap_bytes``)
        before and after decompression: past it the iterator raises :class:`FetchRefused`. A
        retried attempt calls ``consume`` again with a fresh iterator.
        """
        limit = max_bytes if max_bytes is not None else self.settings.max_sitemap_bytes
        got = self._retrying(url, cache, kind=kind, allow_private=allow_private,
                             consume=(consume, limit), until=until)
        assert not isinstance(got, Page)
        return got

    def _retrying(self, url: str, cache: CacheInfo | None, *, kind: Kind, allow_private: bool,
                  consume: tuple[Consumer, int] | None,
                  until: float | None) -> Page | Streamed | NotModified:
        attempt = 0
        while True:
            try:
                return self._follow(url, cache, kind=kind, allow_private=allow_private,
                                    consume=consume, until=until)
            except FetchError as exc:
                if self._gate is not None and exc.retry_after:
                    self._gate.hold_off(_origin(exc.url), exc.retry_after)  # for every worker
                if not exc.transient or attempt >= self.retries:
                    raise
                wait = self._backoff(attempt) if exc.retry_after is None else exc.retry_after
                if wait > self.max_wait:
                    raise  # the server asked for more than we wait in one go: reschedule instead
                if until is not None and self._monotonic() + wait >= until:
                    raise  # no time left in the caller's deadline for another attempt
                attempt += 1
                log.info("fetch_retry url=%s attempt=%d wait=%.2f error=%s", url, attempt, wait,
                         exc)
                # The wait goes through the host's slot so that other requests to the same host
                # wait too (Retry-After is about the host, not about one URL).
                host = self._host(exc.url)
                with host.lock:
                    host.next_allowed = max(host.next_allowed, self._monotonic() + wait)

    def close(self) -> None:
        """Release connections (only when the session is our own)."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def deadline_in(self, seconds: float) -> float:
        """A deadline ``seconds`` from now on this Fetcher's clock, for ``get(until=...)``."""
        return self._monotonic() + seconds

    def time_left(self, until: float) -> float:
        """Seconds left before ``until`` (negative once it has passed)."""
        return until - self._monotonic()

    def robots_sitemaps(self, url: str, *, allow_private: bool = False) -> tuple[str, ...]:
        """The sitemaps the robots.txt of ``url``'s host declares (``Sitemap:`` lines), absolute.

        Reads the same cached rules as every request (fetching them when needed), whether or not
        ``respect_robots`` is set; a robots.txt that cannot be had declares none.
        """
        try:
            rules = self._robots(url, allow_private=allow_private, until=None)
        except FetchError:
            return ()
        if rules is None:
            return ()
        return tuple(dict.fromkeys(urljoin(url, s) for s in rules.sitemaps))

    def host_delay(self, url: str) -> float:
        """The minimum seconds between two requests to ``url``'s host (Crawl-delay included)."""
        return max(self.settings.host_delay, self._host(url).crawl_delay)

    # -- one request, redirects followed ----------------------------------------------------

    def _follow(self, url: str, cache: CacheInfo | None, *, kind: Kind, allow_private: bool,
                consume: tuple[Consumer, int] | None = None,
                until: float | None = None) -> Page | Streamed | NotModified:
        seen: list[str] = []
        current = url
        permanent = True
        while True:
            addresses = self._check_target(current, kind=kind, allow_private=allow_private,
                                           until=until)
            result = self._once(url, current, cache, kind=kind, addresses=addresses,
                                consume=consume, until=until)
            if isinstance(result, _Redirect):
                seen.append(current)
                permanent = permanent and result.permanent
                if result.to in seen:
                    raise FetchRefused(f"redirect loop via {result.to}", url=url)
                if len(seen) > self.max_redirects:
                    raise FetchRefused(f"more than {self.max_redirects} redirects", url=url)
                current = result.to
                continue
            if seen and permanent and isinstance(result, Page | Streamed):
                result = replace(result, moved_to=current)
            return result

    def _check_target(self, url: str, *, kind: Kind, allow_private: bool,
                      until: float | None) -> tuple[str, ...]:
        """Refuse what may not be fetched; the checked addresses to connect to.

        An empty tuple means "let the connection resolve the name": for a source allowed on a
        private host (a trusted local site), and behind a proxy, which resolves it itself.
        """
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError as exc:
            raise FetchRefused(f"malformed URL: {exc}", url=url) from exc
        if parts.scheme not in ("http", "https") or not host:
            raise FetchRefused("only http(s) URLs are fetched", url=url)
        addresses: tuple[str, ...] = ()
        if not allow_private:
            addresses = self._public_addresses(host, url)
        if kind != "robots" and self.settings.respect_robots:
            rules = self._robots(url, allow_private=allow_private, until=until)
            if rules is not None and not rules.can_fetch(url, self.robots_agent):
                raise FetchRefused(f"disallowed by robots.txt for {self.robots_agent!r}", url=url)
        return addresses

    def _public_addresses(self, host: str, url: str) -> tuple[str, ...]:
        """The addresses of ``host`` (resolved once), all public, IPv4 first; else refused."""
        literal = literal_ip(host)
        found = [str(literal)] if literal is not None else [
            a.split("%")[0] for a in self._resolve(host)]
        for address in found:
            if not is_public_host(address, _no_resolve):
                raise FetchRefused(f"host {host} resolves to a private, loopback or link-local "
                                   f"address ({address})", url=url)
        if self._proxied(url):
            return ()  # the proxy resolves the name; its own address says nothing
        if not found:
            raise FetchError(f"host {host} does not resolve", url=url)
        ordered = sorted(dict.fromkeys(found), key=lambda a: ":" in a)
        return tuple(ordered[:_MAX_ADDRESSES])

    def _once(self, asked: str, url: str, cache: CacheInfo | None, *, kind: Kind,
              addresses: tuple[str, ...], consume: tuple[Consumer, int] | None = None,
              until: float | None = None) -> Page | Streamed | NotModified | _Redirect:
        """One HTTP exchange inside the host's slot; a redirect returns the next URL."""
        headers = {"Accept": _ACCEPT.get(kind, _ACCEPT_HTML)}
        if cache and kind != "robots":
            if cache.etag:
                headers["If-None-Match"] = cache.etag
            if cache.last_modified:
                headers["If-Modified-Since"] = cache.last_modified
        host = self._host(url)
        left = self._left(until, url)
        # Another thread holds the host for at most its own deadline; ours bounds the wait.
        if not host.lock.acquire(timeout=-1 if left is None else left):
            raise FetchError("deadline reached waiting for the host", url=url)
        try:
            wait = min(host.next_allowed - self._monotonic(), self.max_wait)
            left = self._left(until, url)
            if left is not None and wait >= left:
                raise FetchError("deadline reached before the host's next allowed request",
                                 url=url)
            if wait > 0:
                self._sleep(wait)
            # Other workers' requests to this host: our turn, held until this exchange is over.
            turn = self._gate.take_turn(_origin(url), self.host_delay(url),
                                        timeout=self._left(until, url)) \
                if self._gate is not None else None
            started = self._monotonic()
            outcome, status, size = "error", None, 0
            try:
                result = self._exchange(asked, url, headers, kind=kind, started=started,
                                        addresses=addresses, consume=consume, until=until)
                if isinstance(result, Page):
                    outcome, status, size = "ok", result.status, len(result.content)
                elif isinstance(result, Streamed):
                    outcome, status, size = "ok", result.status, result.size
                elif isinstance(result, NotModified):
                    outcome, status = "not_modified", 304
                else:
                    outcome = "redirect"
                return result
            except FetchError as exc:
                outcome = "refused" if isinstance(exc, FetchRefused) else "error"
                status = exc.status
                raise
            finally:
                if turn is not None:
                    turn.done()
                host.next_allowed = self._monotonic() + self.host_delay(url)
                if self.on_exchange is not None:
                    self.on_exchange(FetchEvent(url, kind, outcome, status,
                                                (self._monotonic() - started) * 1000, size))
        finally:
            host.lock.release()

    def _left(self, until: float | None, url: str) -> float | None:
        """Seconds left before ``until`` (None: no deadline); raises when none are."""
        if until is None:
            return None
        left = until - self._monotonic()
        if left <= 0:
            raise FetchError("deadline reached", url=url)
        return left

    def _exchange(self, asked: str, url: str, headers: dict[str, str], *, kind: Kind,
                  started: float, addresses: tuple[str, ...],
                  consume: tuple[Consumer, int] | None, until: float | None,
                  ) -> Page | Streamed | NotModified | _Redirect:
        deadline = self.deadline
        left = self._left(until, url)
        if left is not None:
            deadline = min(deadline, left)
        timeout = (min(self.settings.connect_timeout, deadline),
                   min(self.settings.read_timeout, deadline))
        resp = self._send(url, headers, timeout, addresses)
        with resp:
            status = resp.status_code
            if status in _REDIRECTS and resp.headers.get("Location"):
                return _Redirect(urljoin(url, resp.headers["Location"]), status in _PERMANENT)
            got = CacheInfo(resp.headers.get("ETag") or headers.get("If-None-Match"),
                            resp.headers.get("Last-Modified") or headers.get("If-Modified-Since"))
            if status == 304:
                log.info("fetch url=%s status=304", url)
                return NotModified(asked, cache=got)
            if status == 429 or (status >= 500 and status not in _NOT_RETRIED_5XX):
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                asked_for = f" (Retry-After {retry_after:.0f} s)" if retry_after else ""
                raise FetchError(f"HTTP {status}{asked_for}", url=url, status=status,
                                 retry_after=retry_after)
            if status not in (200, 203):
                raise FetchError(f"HTTP {status}", url=url, status=status)
            content_type, charset = _content_type(resp.headers.get("Content-Type"))
            if (kind != "robots" and kind not in _XML_KINDS and content_type
                    and content_type not in _HTML_TYPES):
                raise FetchRefused(f"not HTML but {content_type}", url=url, status=status)
            limit = (_ROBOTS_MAX_BYTES if kind == "robots" else consume[1] if consume
                     else self.settings.max_bytes)
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchRefused(f"body of {declared} bytes exceeds the {limit} byte cap",
                                   url=url, status=status)
            if consume is not None:
                counted = _Counted(self._chunks(resp, url, limit=limit, started=started,
                                                deadline=deadline))
                value = consume[0](iter(counted))
                elapsed = (self._monotonic() - started) * 1000
                log.info("fetch url=%s status=%d bytes=%d ms=%.0f streamed", url, status,
                         counted.size, elapsed)
                return Streamed(url=asked, final_url=url, status=status, value=value,
                                size=counted.size, content_type=content_type, cache=got)
            body = self._read(resp, url, limit=limit, started=started, deadline=deadline)
        text, encoding = decode_html(body, charset)
        elapsed = (self._monotonic() - started) * 1000
        log.info("fetch url=%s status=%d bytes=%d ms=%.0f", url, status, len(body), elapsed)
        return Page(url=asked, final_url=url, status=status, content=body, text=text,
                    encoding=encoding, content_type=content_type or "text/html", cache=got,
                    elapsed_ms=elapsed)

    def _send(self, url: str, headers: dict[str, str], timeout: tuple[float, float],
              addresses: tuple[str, ...]) -> requests.Response:
        """GET ``url``, connecting to ``addresses`` in turn when given (else by name)."""
        if not addresses:
            try:
                return self.session.get(url, headers=headers, timeout=timeout, stream=True,
                                        allow_redirects=False)
            except requests.RequestException as exc:
                raise _connection_error(exc, url) from exc
        parts = urlsplit(url)
        host_header = parts.netloc.rpartition("@")[2]
        for n, address in enumerate(addresses):
            netloc = f"[{address}]" if ":" in address else address
            if parts.port:
                netloc = f"{netloc}:{parts.port}"
            pinned = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
            request = self.session.prepare_request(
                requests.Request("GET", pinned, headers={**headers, "Host": host_header}))
            # Read by _PinnedAdapter: TLS must name (SNI) and verify the host, not the address.
            request.feeder_server_name = parts.hostname  # type: ignore[attr-defined]
            try:
                return self.session.send(request, timeout=timeout, stream=True,
                                         allow_redirects=False)
            except requests.ConnectionError as exc:
                if n + 1 < len(addresses):
                    continue  # this address is unreachable; the name has others
                raise _connection_error(exc, url) from exc
            except requests.RequestException as exc:
                raise _connection_error(exc, url) from exc
        raise AssertionError("unreachable: addresses is not empty")

    def _proxied(self, url: str) -> bool:
        if self.session.proxies:
            return True
        if self.session.trust_env:
            return bool(requests.utils.get_environ_proxies(url, no_proxy=None))
        return False

    def _read(self, resp: requests.Response, url: str, *, limit: int, started: float,
              deadline: float) -> bytes:
        """The decoded body, never more than ``limit`` bytes before or after decompression."""
        return b"".join(self._chunks(resp, url, limit=limit, started=started, deadline=deadline))

    def _chunks(self, resp: requests.Response, url: str, *, limit: int,
                started: float, deadline: float) -> Iterator[bytes]:
        """The decoded body in pieces as it arrives; never more than ``limit`` bytes in all,
        before or after decompression, and never past the deadline."""
        coding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        decoder = _Decoder(coding, url)
        produced = 0
        received = 0
        try:
            for chunk in _raw_chunks(resp):
                received += len(chunk)
                if received > limit:
                    raise FetchRefused(f"body exceeds the {limit} byte cap", url=url, status=200)
                piece = decoder.feed(chunk, limit - produced)
                produced += len(piece)
                if self._monotonic() - started > deadline:
                    raise FetchError(f"took longer than {deadline:g} s", url=url)
                if piece:
                    yield piece
            piece = decoder.finish(limit - produced)
        except FetchError:
            raise
        except (requests.RequestException, OSError, _URLLIB3_ERRORS) as exc:
            raise FetchError(f"body truncated or unreadable: {_reason(exc)}", url=url) from exc
        if piece:
            yield piece

    # -- robots.txt -------------------------------------------------------------------------

    def _robots(self, url: str, *, allow_private: bool, until: float | None) -> Protego | None:
        host = self._host(url)
        with host.robots_lock:
            now = self._monotonic()
            if host.robots_fetched is not None and now - host.robots_fetched < self.robots_ttl:
                return host.robots
            origin = _origin(url)  # the same key as the host's politeness state
            parts = urlsplit(url)
            robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            if host.robots_fetched is None and self._robots_cache is not None:
                kept = self._robots_cache.get_robots(origin)
                age = (clock.now() - kept[1]).total_seconds() if kept else None
                if kept is not None and age is not None and 0 <= age < self.robots_ttl:
                    rules = Protego.parse(kept[0]) if kept[0] is not None else None
                    return self._use_robots(host, rules, now - age)
            try:
                # No retries of its own: the get() that needs these rules retries as a whole,
                # so attempts do not multiply.
                page = self._follow(robots_url, None, kind="robots", allow_private=allow_private,
                                    until=until)
            except FetchError as exc:
                if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                    rules, body = None, None  # RFC 9309 2.3.1.3: "unavailable": no restriction
                else:
                    # RFC 9309 2.3.1.4: "unreachable" means complete disallow; not cached, so
                    # the next poll asks again.
                    raise FetchError(f"robots.txt unreachable, not fetching: {exc}", url=url,
                                     status=exc.status, retry_after=exc.retry_after) from exc
            else:
                assert isinstance(page, Page)  # no validators were sent
                body = page.text
                rules = Protego.parse(body)
            if self._robots_cache is not None:
                self._robots_cache.put_robots(origin, body, clock.now())
            rules = self._use_robots(host, rules, self._monotonic())
            # The robots.txt request itself counts as the last request to the host.
            host.next_allowed = max(host.next_allowed, self._monotonic() + host.crawl_delay)
            log.debug("robots url=%s found=%s crawl_delay=%s", robots_url, rules is not None,
                      host.crawl_delay)
            return rules

    def _use_robots(self, host: _Host, rules: Protego | None, fetched: float) -> Protego | None:
        host.robots, host.robots_fetched = rules, fetched
        delay = rules.crawl_delay(self.robots_agent) if rules is not None else None
        host.crawl_delay = bounded(delay, 0.0, self.max_wait)
        return rules

    def _host(self, url: str) -> _Host:
        with self._hosts_lock:
            return self._hosts.setdefault(_origin(url), _Host())

    def _backoff(self, attempt: int) -> float:
        base = self.backoff * (2 ** attempt)
        return min(base * (0.5 + self._rng.random()), self.max_wait)


# -- helpers --------------------------------------------------------------------------------

class _PinnedAdapter(HTTPAdapter):
    """An adapter for requests sent to an address rather than a name (see ``Fetcher._send``):
    TLS still names the host (SNI) and checks its certificate against the host name."""

    def build_connection_pool_key_attributes(
            self, request: requests.PreparedRequest, verify: bool | str,
            cert: str | tuple[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        name = getattr(request, "feeder_server_name", None)
        if name and host_params.get("scheme") == "https":
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs


def _new_session() -> requests.Session:
    session = requests.Session()
    # Retries are ours (with politeness and Retry-After); urllib3's would bypass both.
    adapter = _PinnedAdapter(max_retries=0, pool_connections=32, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Only codings whose decompressed size we bound ourselves (see _Decoder).
    session.headers["Accept-Encoding"] = "gzip, deflate"
    return session


def _origin(url: str) -> str:
    """``scheme://host[:port]`` in lower case: what politeness and robots.txt are kept per."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class _Counted:
    """An iterator of chunks that counts the bytes it passed on."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.size += len(chunk)
            yield chunk


def _raw_chunks(resp: requests.Response) -> Iterator[bytes]:
    """Undecoded body bytes as they arrive.

    ``read1`` returns after at most one socket read, so a server that drips a byte at a time
    cannot hold us past the deadline check between chunks (``read(n)`` would wait for n bytes).
    """
    raw = resp.raw
    while True:
        chunk = raw.read1(_CHUNK, decode_content=False)
        if not chunk:
            return
        yield chunk


class _Decoder:
    """Incremental Content-Encoding decoder that never produces more than asked for."""

    def __init__(self, coding: str, url: str) -> None:
        self.url = url
        self.coding = coding
        if coding in ("", "identity"):
            self._z = None
        elif coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._z = None  # zlib-wrapped or raw: decided on the first byte
        else:
            raise FetchRefused(f"unsupported Content-Encoding {coding!r}", url=url, status=200)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        if self.coding in ("", "identity"):
            return data  # the raw byte count is already capped
        if self._z is None:  # deflate: servers disagree on whether the zlib header is there
            self._z = zlib.decompressobj(zlib.MAX_WBITS if data[:1] == b"\x78" else -zlib.MAX_WBITS)
        return self._inflate(data, room)

    def finish(self, room: int) -> bytes:
        if self._z is None:
            return b""
        return self._inflate(b"", room)

    def _inflate(self, data: bytes, room: int) -> bytes:
        assert self._z is not None
        out = bytearray()
        try:
            while True:
                # max_length=room+1 so that exceeding the cap is detected without inflating more.
                piece = self._z.decompress(data, room - len(out) + 1)
                out += piece
                if len(out) > room:
                    raise FetchRefused("decompressed body exceeds the byte cap", url=self.url,
                                       status=200)
                data = self._z.unconsumed_tail
                if self._z.eof and self._z.unused_data and self.coding != "deflate":
                    # Concatenated gzip members are legal (RFC 1952 2.2).
                    rest = self._z.unused_data
                    self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    data = rest
                    continue
                if not data:
                    return bytes(out)
        except zlib.error as exc:
            raise FetchError(f"corrupt {self.coding} body: {exc}", url=self.url,
                             status=200) from exc


def _content_type(header: str | None) -> tuple[str, str | None]:
    """(media type, charset parameter) of a Content-Type header."""
    if not header:
        return "", None
    media, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media.strip().lower(), charset


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP-date), or ``None``.

    Never more than :data:`MAX_RETRY_AFTER`: ``99999999999999`` or a date in the year 9999 mean
    "a long time", and a day is long enough to ask again.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return bounded(float(value), 0.0, MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110: HTTP-dates are always GMT
        return None
    return bounded((when - clock.now()).total_seconds(), 0.0, MAX_RETRY_AFTER)


def bounded(value: float | None, low: float, high: float) -> float:
    """``value`` within [low, high]; ``None`` and NaN count as ``low``, infinities as the ends."""
    if value is None or math.isnan(value):
        return low
    return min(max(float(value), low), high)


def _no_resolve(_host: str) -> list[str]:
    return []


def _connection_error(exc: requests.RequestException, url: str) -> FetchError:
    if isinstance(exc, requests.Timeout):
        return FetchError(f"timed out ({exc.__class__.__name__})", url=url)
    return FetchError(f"connection failed: {_reason(exc)}", url=url)


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []  # let the request itself report the DNS failure
    return [str(info[4][0]) for info in infos]


def is_public_host(host: str, resolve: Callable[[str], list[str]] = _resolve) -> bool:
    """False when ``host`` is, or resolves to, an address that is not globally routable.

    Covers private (RFC 1918, fc00::/7), loopback, link-local, CGNAT, reserved, multicast and
    IPv4-mapped forms of those. A host that does not resolve counts as public: the request then
    fails with the DNS error, which says more. (The Fetcher connects to the addresses it checked,
    so a DNS answer that changes between the check and the connection does not matter.)
    """
    literal = literal_ip(host)
    if literal is not None:
        return is_public_ip(literal)
    for a in resolve(host):
        ip = literal_ip(a)
        if ip is not None and not is_public_ip(ip):
            return False
    return True


def _reason(exc: BaseException) -> str:
    """The innermost cause's message: 'Connection refused' rather than urllib3's pool repr."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return f"{exc.__class__.__name__}: {exc}"[:200]

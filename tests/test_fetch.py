"""feeder.fetch against a real HTTP server on 127.0.0.1: headers on the wire, limits, politeness.

Waits go through an injected fake clock (``FakeClock``): ``sleep`` records and advances it, so
backoff, Retry-After, host delays and Crawl-delay are asserted exactly and cost no wall time.
"""

from __future__ import annotations

import gzip
import itertools
import random
import threading
import time
import unicodedata
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from feeder.config import Settings
from feeder.errors import FetchError
from feeder.fetch import Fetcher, FetchEvent, FetchRefused, is_public_host, parse_retry_after
from feeder.model import CacheInfo, NotModified, Page
from tests.support.http import LoopbackServer, loopback_counts_as_public

HTML = "<!doctype html><html><head><meta charset='utf-8'><title>Tin</title></head>" \
       "<body><p>Ngày 22/12, hội nghị đã diễn ra.</p></body></html>"
UA = "feeder-test/1.0 (+https://example.org/feeder-test)"


class FakeClock:
    """``monotonic`` and ``sleep`` for a Fetcher: sleeping advances time and is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock | None = None, **kwargs: Any) -> Fetcher:
    settings_keys = {"host_delay", "max_bytes", "respect_robots", "read_timeout",
                     "connect_timeout", "user_agent"}
    settings = Settings(**{"host_delay": 0.0, "user_agent": UA,
                           **{k: v for k, v in kwargs.items() if k in settings_keys}})
    rest = {k: v for k, v in kwargs.items() if k not in settings_keys}
    rest.setdefault("backoff", 0.01)
    rest.setdefault("rng", random.Random(7))
    if clock is not None:
        rest.update(sleep=clock.sleep, monotonic=clock.monotonic)
    return Fetcher(settings, **rest)


def get(fetcher: Fetcher, url: str, cache: CacheInfo | None = None, **kw: Any) -> Page:
    page = fetcher.get(url, cache, allow_private=True, **kw)
    assert isinstance(page, Page)
    return page


def page_paths(srv: LoopbackServer) -> list[str]:
    return [r.path for r in srv.requests if r.path != "/robots.txt"]


# -- basics ---------------------------------------------------------------------------------

def test_user_agent_and_headers_on_the_wire(server: LoopbackServer) -> None:
    server.route("/a", HTML)
    with make() as f:
        page = get(f, server.url("/a"))
    assert page.status == 200 and "Ngày 22/12" in page.text and page.encoding == "utf-8"
    sent = server.requests_to("/a")[0].headers
    assert sent["User-Agent"] == UA
    assert sent["Accept-Encoding"] == "gzip, deflate"
    assert "text/html" in sent["Accept"]
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent


def test_conditional_get_round_trip(server: LoopbackServer) -> None:
    lm = "Tue, 22 Dec 2020 10:05:00 GMT"
    server.route("/list", HTML, headers={"ETag": '"v1"', "Last-Modified": lm})
    with make() as f:
        first = get(f, server.url("/list"), kind="listing")
        assert first.cache == CacheInfo('"v1"', lm)
        second = f.get(server.url("/list"), first.cache, kind="listing", allow_private=True)
    assert isinstance(second, NotModified)
    assert second.url == server.url("/list") and second.cache == CacheInfo('"v1"', lm)
    sent = server.requests_to("/list")[1].headers
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == lm


def test_last_modified_only_and_changed_page(server: LoopbackServer) -> None:
    lm = "Tue, 22 Dec 2020 10:05:00 GMT"
    server.route("/a", HTML, headers={"Last-Modified": lm})
    with make() as f:
        assert isinstance(f.get(server.url("/a"), CacheInfo(None, lm), allow_private=True),
                          NotModified)
        # The page changed: the server's new validators come back with the new Page.
        server.route("/a", HTML, headers={"ETag": '"v2"'})
        page = get(f, server.url("/a"), CacheInfo('"v1"', None))
    assert page.cache.etag == '"v2"'


def test_redirect_sets_final_url(server: LoopbackServer) -> None:
    server.route("/old", b"", status=301, headers={"Location": "/new"})
    server.route("/new", HTML)
    with make() as f:
        page = get(f, server.url("/old"))
    assert page.url == server.url("/old") and page.final_url == server.url("/new")


def test_http_errors_name_the_url_and_4xx_is_not_retried(server: LoopbackServer) -> None:
    with make(retries=3) as f, pytest.raises(FetchError) as err:
        get(f, server.url("/missing"))
    assert err.value.status == 404 and not err.value.transient
    assert server.url("/missing") in str(err.value)
    assert len(server.requests_to("/missing")) == 1


# -- limits ---------------------------------------------------------------------------------

def test_body_over_cap_refused_by_declared_length(server: LoopbackServer) -> None:
    server.route("/big", b"<p>" + b"x" * 20_000)
    with make(max_bytes=10_000) as f, pytest.raises(FetchRefused, match="cap"):
        get(f, server.url("/big"))


def test_body_over_cap_refused_without_declared_length(server: LoopbackServer) -> None:
    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Connection", "close")
        h.end_headers()
        try:
            for _ in range(1000):  # 64 MB if nobody stops reading
                h.wfile.write(b"<p>" + b"y" * 65533)
        except OSError:
            pass
        h.close_connection = True

    server.route("/stream", endless)
    with make(max_bytes=100_000) as f, pytest.raises(FetchRefused, match="cap") as err:
        get(f, server.url("/stream"))
    assert not err.value.transient


def test_gzip_page_is_decoded(server: LoopbackServer) -> None:
    server.route("/gz", gzip.compress(HTML.encode()), headers={"Content-Encoding": "gzip"})
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    body = raw_deflate.compress(HTML.encode()) + raw_deflate.flush()
    server.route("/deflate", body, headers={"Content-Encoding": "deflate"})
    with make() as f:
        assert get(f, server.url("/gz")).text == HTML
        assert get(f, server.url("/deflate")).text == HTML


def test_gzip_bomb_is_stopped_by_decompressed_size(server: LoopbackServer) -> None:
    bomb = gzip.compress(b"<html>" + b"\0" * 30_000_000, compresslevel=9)
    assert len(bomb) < 50_000  # small on the wire, 30 MB inflated
    server.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with make(max_bytes=1_000_000) as f, pytest.raises(FetchRefused, match="decompressed"):
        get(f, server.url("/bomb"))


def test_corrupt_gzip_is_an_error(server: LoopbackServer) -> None:
    server.route("/bad", b"\x1f\x8b\x08\x00garbage-garbage", headers={"Content-Encoding": "gzip"})
    with make(retries=0) as f, pytest.raises(FetchError, match="corrupt"):
        get(f, server.url("/bad"))


@pytest.mark.parametrize("ctype", ["application/pdf", "image/jpeg", "application/json"])
def test_non_html_refused_before_reading(server: LoopbackServer, ctype: str) -> None:
    server.route("/file", b"%PDF-1.4 ...", headers={"Content-Type": ctype})
    with make() as f:
        for kind in ("article", "listing"):
            with pytest.raises(FetchRefused, match="not HTML"):
                get(f, server.url("/file"), kind=kind)


def test_xhtml_accepted_and_robots_kind_takes_any_type(server: LoopbackServer) -> None:
    server.route("/x", HTML, headers={"Content-Type": "application/xhtml+xml; charset=utf-8"})
    server.route("/robots.txt", "User-agent: *\nAllow: /\n",
                 headers={"Content-Type": "text/plain"})
    with make() as f:
        assert get(f, server.url("/x")).content_type == "application/xhtml+xml"
        assert "Allow" in get(f, server.url("/robots.txt"), kind="robots").text


def test_slow_drip_hits_the_total_deadline(server: LoopbackServer) -> None:
    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "200")
        h.end_headers()
        try:
            for _ in range(200):  # 10 s in all, each byte well within the read timeout
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    server.route("/drip", drip)
    started = time.monotonic()
    with make(retries=0, deadline=0.5, read_timeout=2.0) as f, \
            pytest.raises(FetchError, match="longer than") as err:
        get(f, server.url("/drip"))
    assert time.monotonic() - started < 3
    assert err.value.transient


def test_read_timeout_is_transient(server: LoopbackServer) -> None:
    server.route("/slow", HTML, delay=1.0)
    with make(retries=0, read_timeout=0.2) as f, pytest.raises(FetchError, match="timed out") \
            as err:
        get(f, server.url("/slow"))
    assert err.value.transient and err.value.status is None


# -- redirects ------------------------------------------------------------------------------

def test_redirect_loop_is_refused(server: LoopbackServer) -> None:
    server.route("/a", b"", status=302, headers={"Location": "/b"})
    server.route("/b", b"", status=302, headers={"Location": "/a"})
    with make() as f, pytest.raises(FetchRefused, match="redirect loop"):
        get(f, server.url("/a"))
    assert len(server.requests_to("/a")) == 1 and len(server.requests_to("/b")) == 1


def test_redirect_chain_limit(server: LoopbackServer) -> None:
    for i in range(10):
        server.route(f"/r{i}", b"", status=307, headers={"Location": f"/r{i + 1}"})
    server.route("/r10", HTML)
    with make(max_redirects=5) as f, pytest.raises(FetchRefused, match="more than 5 redirects"):
        get(f, server.url("/r0"))
    assert len(page_paths(server)) == 6
    with make(max_redirects=10) as f:
        assert get(f, server.url("/r0")).final_url == server.url("/r10")


# -- retries --------------------------------------------------------------------------------

def _flaky(statuses: list[int], headers: dict[str, str] | None = None):
    """A handler answering each status in turn, then the page."""
    calls = {"n": 0}

    def handler(h: BaseHTTPRequestHandler) -> None:
        n = calls["n"]
        calls["n"] += 1
        status = statuses[n] if n < len(statuses) else 200
        body = HTML.encode() if status == 200 else b"busy"
        h.send_response(status)
        for k, v in {"Content-Type": "text/html; charset=utf-8",
                     **(headers or {} if status != 200 else {})}.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handler


def test_retry_after_is_honoured_on_503_and_429(server: LoopbackServer, clock: FakeClock) -> None:
    server.route("/busy", _flaky([503, 429], {"Retry-After": "3"}))
    with make(clock, retries=3) as f:
        page = get(f, server.url("/busy"))
    assert page.status == 200
    assert clock.sleeps == [3.0, 3.0]
    assert len(server.requests_to("/busy")) == 3


def test_retry_after_beyond_cap_is_not_slept(server: LoopbackServer, clock: FakeClock) -> None:
    server.route("/later", _flaky([429], {"Retry-After": "3600"}))
    with make(clock, retries=3, max_wait=60) as f, pytest.raises(FetchError) as err:
        get(f, server.url("/later"))
    assert err.value.status == 429 and err.value.retry_after == 3600.0 and err.value.transient
    assert clock.sleeps == [] and len(server.requests_to("/later")) == 1


def test_exponential_backoff_with_jitter_then_give_up(server: LoopbackServer,
                                                      clock: FakeClock) -> None:
    server.route("/down", b"oops", status=500)
    with make(clock, retries=3, backoff=1.0) as f, pytest.raises(FetchError) as err:
        get(f, server.url("/down"))
    assert err.value.status == 500 and err.value.transient
    assert len(server.requests_to("/down")) == 4
    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps):
        base = 2 ** attempt
        assert 0.5 * base <= slept <= 1.5 * base  # +-50 % jitter around 1, 2, 4 s


def test_transient_network_failures_are_retried(server: LoopbackServer, clock: FakeClock) -> None:
    calls = {"n": 0}

    def reset_then_ok(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # truncated body: 10 bytes of the promised 1000, then hang up
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "1000")
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(b"<html>trun")
            h.close_connection = True
            return
        _flaky([])(h)

    server.route("/flaky", reset_then_ok)
    with make(clock, retries=2) as f:
        assert "Ngày 22/12" in get(f, server.url("/flaky")).text
    assert calls["n"] == 2 and len(clock.sleeps) == 1


def test_connection_refused_is_transient(clock: FakeClock) -> None:
    with make(clock, retries=1, respect_robots=False) as f, \
            pytest.raises(FetchError, match="connection failed") as err:
        f.get("http://127.0.0.1:9/nothing-listens", allow_private=True)
    assert err.value.transient and len(clock.sleeps) == 1


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


# -- politeness -----------------------------------------------------------------------------

def test_robots_disallow_is_refused_and_robots_is_cached(server: LoopbackServer) -> None:
    rules = "User-agent: *\nDisallow: /private/\n\nUser-agent: feeder-test\nDisallow: /bots/\n"
    server.route("/robots.txt", rules,
                 headers={"Content-Type": "text/plain"})
    server.route("/ok", HTML)
    server.route("/bots/page", HTML)
    server.route("/private/x", HTML)
    with make() as f:
        with pytest.raises(FetchRefused, match=r"robots\.txt") as err:
            get(f, server.url("/bots/page"))
        assert not err.value.transient
        assert get(f, server.url("/ok")).status == 200
        # A group naming our product token replaces the "*" group (RFC 9309 2.2.1).
        assert get(f, server.url("/private/x")).status == 200
    assert server.requests_to("/bots/page") == []
    assert len(server.requests_to("/robots.txt")) == 1


def test_robots_404_allows_everything_and_can_be_switched_off(server: LoopbackServer) -> None:
    server.route("/private/x", HTML)
    with make() as f:
        assert get(f, server.url("/private/x")).status == 200
    server.route("/robots.txt", "User-agent: *\nDisallow: /\n",
                 headers={"Content-Type": "text/plain"})
    with make() as f, pytest.raises(FetchRefused):
        get(f, server.url("/private/x"))
    before = len(server.requests_to("/robots.txt"))
    with make(respect_robots=False) as f:
        assert get(f, server.url("/private/x")).status == 200
    assert len(server.requests_to("/robots.txt")) == before


def test_robots_unreachable_means_not_now(server: LoopbackServer, clock: FakeClock) -> None:
    server.route("/robots.txt", b"down", status=503)
    server.route("/a", HTML)
    with make(clock, retries=1) as f, pytest.raises(FetchError, match=r"robots\.txt unreachable") \
            as err:
        get(f, server.url("/a"))
    assert err.value.transient
    assert server.requests_to("/a") == []


def test_crawl_delay_raises_the_host_delay(server: LoopbackServer, clock: FakeClock) -> None:
    server.route("/robots.txt", "User-agent: *\nCrawl-delay: 5\n",
                 headers={"Content-Type": "text/plain"})
    server.route("/a", HTML)
    server.route("/b", HTML)
    with make(clock, host_delay=1.0) as f:
        get(f, server.url("/a"))
        get(f, server.url("/b"))
        assert f.host_delay(server.url("/x")) == 5.0
    # robots.txt, then /a 5 s later (Crawl-delay known by then), then /b 5 s after /a.
    assert clock.sleeps == [5.0, 5.0]


def test_host_delay_between_requests(server: LoopbackServer, clock: FakeClock) -> None:
    server.route("/a", HTML)
    with make(clock, host_delay=2.5, respect_robots=False) as f:
        for _ in range(3):
            get(f, server.url("/a"))
    assert clock.sleeps == [2.5, 2.5]


def test_one_request_at_a_time_per_host(server: LoopbackServer) -> None:
    spans: list[tuple[float, float]] = []

    def slow(h: BaseHTTPRequestHandler) -> None:
        start = time.monotonic()
        time.sleep(0.1)
        _flaky([])(h)
        spans.append((start, time.monotonic()))

    server.route("/s", slow)
    with make(respect_robots=False) as f:
        threads = [threading.Thread(target=get, args=(f, server.url("/s"))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    spans.sort()
    assert len(spans) == 4
    assert all(a_end <= b_start + 0.01
               for (_, a_end), (b_start, _) in itertools.pairwise(spans))


# -- private addresses ----------------------------------------------------------------------

def test_private_addresses_refused_unless_allowed(server: LoopbackServer) -> None:
    server.route("/a", HTML)
    with make() as f:
        with pytest.raises(FetchRefused, match="private") as err:
            f.get(server.url("/a"))
        assert not err.value.transient
        assert server.requests == []
        assert get(f, server.url("/a")).status == 200  # allow_private=True


def test_connects_to_the_checked_address(server: LoopbackServer,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # "news.test" resolves (once) to an address the check accepts; the request goes to that
    # address with the name in the Host header (system DNS knows no "news.test").
    loopback_counts_as_public(monkeypatch)
    server.route("/a", HTML)
    with make(resolver={"news.test": ["127.0.0.1"]}.get, respect_robots=False) as f:
        page = f.get(f"http://news.test:{server.port}/a")
    assert isinstance(page, Page) and page.final_url == f"http://news.test:{server.port}/a"
    assert server.requests_to("/a")[0].headers["Host"] == f"news.test:{server.port}"


def test_redirect_to_private_address_refused(server: LoopbackServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # The first hop is on a (seemingly) public host; the redirect to a link-local metadata
    # address must be refused before any connection.
    loopback_counts_as_public(monkeypatch)
    server.route("/jump", b"", status=302,
                 headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    url = f"http://news.test:{server.port}/jump"
    with make(resolver={"news.test": ["127.0.0.1"]}.get, respect_robots=False) as f, \
            pytest.raises(FetchRefused, match=r"169\.254\.169\.254"):
        f.get(url)
    assert len(server.requests_to("/jump")) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.4",
                                  "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1",
                                  "fd00::1", "::ffff:127.0.0.1", "[::1]", "224.0.0.1"])
def test_is_public_host_rejects_non_global(host: str) -> None:
    assert not is_public_host(host, lambda h: [])


def test_is_public_host_resolves_names() -> None:
    assert is_public_host("93.184.216.34", lambda h: [])
    assert is_public_host("news.example", lambda h: ["93.184.216.34"])
    assert not is_public_host("intranet.example", lambda h: ["93.184.216.34", "10.0.0.7"])
    with make(resolver=lambda h: ["10.0.0.7"]) as f, pytest.raises(FetchRefused):
        f.get("http://intranet.example/list")


def test_non_http_schemes_refused() -> None:
    with make() as f:
        for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)"):
            with pytest.raises(FetchRefused, match="http"):
                f.get(url, allow_private=True)


# -- charsets -------------------------------------------------------------------------------

def test_wrong_charset_header_recovered_from_meta(server: LoopbackServer) -> None:
    server.route("/utf8", HTML.encode(), headers={"Content-Type": "text/html; charset=iso-8859-1"})
    text = ("<html><head><meta http-equiv='Content-Type' "
            "content='text/html; charset=windows-1258'></head>"
            "<body><p>Tin tức tỉnh Tân Phước: Việt Nam</p></body></html>")
    server.route("/cp1258", _cp1258(text),
                 headers={"Content-Type": "text/html; charset=ISO-8859-1"})
    with make() as f:
        assert "Ngày 22/12" in get(f, server.url("/utf8")).text
        page = get(f, server.url("/cp1258"))
    assert "Tin tức tỉnh Tân Phước: Việt Nam" in page.text and page.encoding == "cp1258"


def test_windows_1258_page_decodes_to_nfc(server: LoopbackServer) -> None:
    words = "Ngày 22/12, Đảng ủy Công an tỉnh tổ chức hội nghị tổng kết. Tin, ảnh: TRÍ NHÂN"
    body = _cp1258(f"<html><body><p>{words}</p></body></html>")
    assert b"\xd2" in body or b"\xec" in body  # tone marks really are combining characters
    server.route("/vn", body, headers={"Content-Type": "text/html; charset=windows-1258"})
    with make() as f:
        page = get(f, server.url("/vn"))
    assert words in page.text
    assert unicodedata.is_normalized("NFC", page.text)


_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def _cp1258(text: str) -> bytes:
    """Encode like a legacy Vietnamese page: precomposed base letters plus combining tone marks."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            tone = next(c for c in decomposed if c in _TONES)
            base = unicodedata.normalize("NFC", decomposed.replace(tone, ""))
            out += base.encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


# -- hostile servers ------------------------------------------------------------------------

def test_chunked_transfer_encoding(server: LoopbackServer) -> None:
    def chunked(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        data = HTML.encode()
        for i in range(0, len(data), 7):
            piece = data[i:i + 7]
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    server.route("/chunked", chunked)
    with make() as f:
        assert get(f, server.url("/chunked")).text == HTML


def test_garbage_body_is_a_page_not_a_crash(server: LoopbackServer) -> None:
    garbage = bytes(random.Random(3).randrange(256) for _ in range(5000))
    server.route("/garbage", garbage, headers={"Content-Type": "text/html"})
    with make() as f:
        page = get(f, server.url("/garbage"))
    assert page.content == garbage and isinstance(page.text, str)


def test_garbage_status_line_is_transient(server: LoopbackServer, clock: FakeClock) -> None:
    def not_http(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"\x00\xffNOT HTTP AT ALL\r\n\r\n")
        h.close_connection = True

    server.route("/nothttp", not_http)
    with make(clock, retries=1) as f, pytest.raises(FetchError) as err:
        get(f, server.url("/nothttp"))
    assert err.value.transient and len(server.requests_to("/nothttp")) == 2


def test_unsupported_content_encoding_refused(server: LoopbackServer) -> None:
    server.route("/br", b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})
    with make() as f, pytest.raises(FetchRefused, match="Content-Encoding"):
        get(f, server.url("/br"))


def test_every_exchange_is_reported(server: LoopbackServer, clock: FakeClock) -> None:
    server.route("/robots.txt", "User-agent: *\nDisallow: /no\n",
                 headers={"Content-Type": "text/plain"})
    server.route("/moved", b"", status=301, headers={"Location": "/a"})
    server.route("/a", HTML, headers={"ETag": '"e"'})
    server.route("/down", _flaky([503]))
    events: list[FetchEvent] = []
    with make(clock, on_exchange=events.append) as f:
        get(f, server.url("/moved"))
        f.get(server.url("/a"), CacheInfo('"e"'), allow_private=True)
        get(f, server.url("/down"))
    assert [(e.url.rsplit("/", 1)[1], e.kind, e.outcome, e.status) for e in events] == [
        ("robots.txt", "robots", "ok", 200),
        ("moved", "article", "redirect", None),
        ("a", "article", "ok", 200),
        ("a", "article", "not_modified", 304),
        ("down", "article", "error", 503),
        ("down", "article", "ok", 200),
    ]
    assert events[2].bytes == len(HTML.encode())


def test_robots_txt_is_fetched_again_after_its_ttl(server: LoopbackServer,
                                                   clock: FakeClock) -> None:
    server.route("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    server.route("/a", HTML)
    with make(clock, robots_ttl=3600) as f:
        get(f, server.url("/a"))
        clock.now += 1800
        get(f, server.url("/a"))
        assert len(server.requests_to("/robots.txt")) == 1
        server.route("/robots.txt", "User-agent: *\nDisallow: /\n",
                     headers={"Content-Type": "text/plain"})
        clock.now += 1801
        with pytest.raises(FetchRefused):
            get(f, server.url("/a"))
    assert len(server.requests_to("/robots.txt")) == 2

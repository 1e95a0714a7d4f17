"""A hostile loopback server behind many sources (issue 5).

Sources come in three kinds, interleaved: healthy ones, ones whose listing is hostile, and healthy
listings that link to healthy and hostile article pages. Hostile means: 500s, a timeout (the
server says nothing for longer than the read timeout), a body cut short (Content-Length larger than
what is sent, then close), garbage bytes, 10 MB bodies (with and without Content-Length), a gzip
bomb, a redirect loop, a slow drip (one byte per 0.1 s). Some pages are difficult but healthy: a
500 on the first request only, or a wrong charset in the header; they must be published.

One ``Poller.run_once()`` runs in a subprocess (``tests/support/poll_run.py``, with short timeouts
and backoff) and must: finish and report every source; publish every healthy article exactly
once; report the hostile listings as errors naming the source and the URL, and the hostile
article pages as failed pages naming the URL; keep its peak RSS under 300 MB.
Quick: 20 sources on SQLite; slow (``-m slow``): 200, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.support.site import (
    Reply,
    SiteServer,
    article_html,
    check_published,
    feed_ids,
    listing_html,
    write_config,
)
from tests.support.site import (
    gzip_bomb as bomb,
)

ROOT = Path(__file__).resolve().parent.parent
PORTS = 4  # four "hosts", so that a stalled host does not hold up all the others
READ_TIMEOUT = 0.5  # far above a healthy local response, even on a busy 2-core CI
MAX_BYTES = 2_000_000
MAX_RSS_MB = 300
TEN_MB = b"<p>" + b"x" * (10 * 1024 * 1024) + b"</p>"


Handler = Callable[[BaseHTTPRequestHandler], None]
HOSTILE_KINDS = ("500", "timeout", "truncated", "garbage", "huge", "huge-stream", "bomb",
                 "redirect-loop", "drip")
DIFFICULT_KINDS = ("flaky", "charset-latin1", "charset-bogus")


@dataclass
class HostileSite:
    srv: SiteServer | None = None
    routes: dict[str, Reply | Handler] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    healthy: dict[str, set[str]] = field(default_factory=dict)  # source -> article URLs
    hostile_listings: dict[str, str] = field(default_factory=dict)  # source -> kind
    hostile_pages: dict[str, str] = field(default_factory=dict)  # URL -> kind

    def resolve(self, path: str) -> Reply | Handler | None:
        return self.routes.get(path)

    # -- behaviours ------------------------------------------------------------------------

    def behaviour(self, kind: str, path: str, good: Reply) -> Reply | Handler:
        assert self.srv is not None
        srv = self.srv
        if kind == "500":
            return Reply(b"<h1>Internal Server Error</h1>", 500, {"Content-Type": "text/html"})
        if kind == "flaky":
            def flaky(h: BaseHTTPRequestHandler) -> None:
                self.seen[path] = self.seen.get(path, 0) + 1
                reply = good if self.seen[path] > 1 else Reply(b"busy", 503,
                                                              {"Content-Type": "text/plain"})
                _send(h, reply)
            return flaky
        if kind == "charset-latin1":  # UTF-8 bytes labelled Latin-1: a common misconfiguration
            return Reply(good.body, 200, {"Content-Type": "text/html; charset=iso-8859-1"})
        if kind == "charset-bogus":
            return Reply(good.body, 200, {"Content-Type": "text/html; charset=x-no-such-charset"})
        if kind == "timeout":
            def stall(h: BaseHTTPRequestHandler) -> None:
                srv.stopping.wait(READ_TIMEOUT * 6)  # say nothing past the read timeout
                h.close_connection = True
            return stall
        if kind == "truncated":
            def truncated(h: BaseHTTPRequestHandler) -> None:
                h.send_response(200)
                h.send_header("Content-Type", "text/html; charset=utf-8")
                h.send_header("Content-Length", str(len(good.body) * 10))
                h.end_headers()
                h.wfile.write(good.body[: len(good.body) // 2])
                h.close_connection = True
            return truncated
        if kind == "garbage":
            return Reply(self.rng.randbytes(20_000), 200, {"Content-Type": "text/html"})
        if kind == "huge":
            return Reply(TEN_MB, 200, {"Content-Type": "text/html; charset=utf-8"})
        if kind == "huge-stream":
            def stream(h: BaseHTTPRequestHandler) -> None:  # no Content-Length: read to close
                h.send_response(200)
                h.send_header("Content-Type", "text/html; charset=utf-8")
                h.send_header("Connection", "close")
                h.end_headers()
                h.close_connection = True
                for i in range(0, len(TEN_MB), 256 * 1024):
                    try:
                        h.wfile.write(TEN_MB[i:i + 256 * 1024])
                    except OSError:
                        return
            return stream
        if kind == "bomb":
            return Reply(bomb(), 200, {"Content-Type": "text/html; charset=utf-8",
                                     "Content-Encoding": "gzip"})
        if kind == "redirect-loop":
            # path -> path?a -> path?b -> path?a ...; the server resolves without the query.
            def loop(h: BaseHTTPRequestHandler) -> None:
                nxt = path + ("?b" if h.path.endswith("?a") else "?a")
                _send(h, Reply(b"", 302, {"Location": nxt}))
            return loop
        if kind == "drip":
            def drip(h: BaseHTTPRequestHandler) -> None:
                h.send_response(200)
                h.send_header("Content-Type", "text/html; charset=utf-8")
                h.send_header("Content-Length", str(len(good.body)))
                h.end_headers()
                for i in range(min(len(good.body), 200)):  # bounded: 200 bytes, 20 s at most
                    try:
                        h.wfile.write(good.body[i:i + 1])
                        h.wfile.flush()
                    except OSError:
                        return
                    if srv.stopping.wait(0.1):
                        return
                h.close_connection = True
            return drip
        raise AssertionError(kind)

    # -- the site --------------------------------------------------------------------------

    def build(self, n_sources: int) -> list[dict[str, object]]:
        """Routes for ``n_sources`` sources; returns their config entries."""
        assert self.srv is not None
        sources: list[dict[str, object]] = []
        hostile_i = difficult_i = 0
        for i in range(n_sources):
            sid = f"h{i}"
            port = i % PORTS
            base = self.srv.url("", port)
            listing_path = f"/{sid}/"
            articles: list[str] = []
            role = ("healthy", "hostile-listing", "mixed")[i % 3]
            self.healthy[sid] = set()
            for n in range(5 if role == "mixed" else 3):
                path = f"/{sid}/bai-{n}-tin-tuc-trong-ngay.html"
                url = base + path
                good = Reply.html(article_html(url, f"Tin {n} của nguồn {i}: Hà Nội mùa thu",
                                               minute=n), etag=False)
                if role == "mixed" and n >= 2:
                    kind = HOSTILE_KINDS[hostile_i % len(HOSTILE_KINDS)]
                    hostile_i += 1
                    self.routes[path] = self.behaviour(kind, path, good)
                    self.hostile_pages[url] = kind
                elif role == "mixed" and n == 1:
                    kind = DIFFICULT_KINDS[difficult_i % len(DIFFICULT_KINDS)]
                    difficult_i += 1
                    self.routes[path] = self.behaviour(kind, path, good)
                    self.healthy[sid].add(url)
                else:
                    self.routes[path] = good
                    self.healthy[sid].add(url)
                articles.append(path)
            listing = Reply.html(listing_html(articles))
            if role == "hostile-listing":
                kind = HOSTILE_KINDS[hostile_i % len(HOSTILE_KINDS)]
                hostile_i += 1
                self.routes[listing_path] = self.behaviour(kind, listing_path, listing)
                self.hostile_listings[sid] = kind
                self.healthy[sid] = set()
            else:
                self.routes[listing_path] = listing
            sources.append({"id": sid, "name": f"Nguồn {i}", "url": base + listing_path})
        return sources


def _send(h: BaseHTTPRequestHandler, reply: Reply) -> None:
    h.send_response(reply.status)
    for k, v in reply.headers.items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(reply.body)))
    h.end_headers()
    h.wfile.write(reply.body)


@pytest.fixture
def hostile() -> Iterator[HostileSite]:
    site = HostileSite()
    site.srv = SiteServer(site.resolve, ports=PORTS)
    with site.srv:
        yield site


def _run(tmp_path: Path, site: HostileSite, n_sources: int, *, second_run: bool,
         database: str | None = None) -> None:
    sources = site.build(n_sources)
    config = write_config(
        tmp_path / "feeder.toml",
        {"out": str(tmp_path / "out"), "database": database or str(tmp_path / "feeder.db"),
         "host_delay": 0.0, "respect_robots": False, "workers": 8,
         "connect_timeout": READ_TIMEOUT, "read_timeout": READ_TIMEOUT, "max_bytes": MAX_BYTES},
        sources)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.poll_run", str(config), "--retries", "1",
         "--backoff", "0.01", "--max-wait", "0.05"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    results = {r["source"]: r for r in report["results"]}
    print(f"{n_sources} sources in {report['seconds']:.1f} s, peak RSS "
          f"{report['peak_rss_mb']:.0f} MB")

    # The run stays up and reports on every source.
    assert set(results) == {s["id"] for s in sources}
    assert report["peak_rss_mb"] < MAX_RSS_MB

    # Hostile listings: errors naming the source (the result's key) and the URL. Garbage is not
    # an HTTP failure: a listing without article links is a warning (and, repeated, flags the
    # source's selectors as broken).
    for sid, kind in site.hostile_listings.items():
        r = results[sid]
        url = next(s["url"] for s in sources if s["id"] == sid)
        if kind == "garbage":
            assert r["status"] == "error" or "listing yielded no article link" in r["warnings"], r
            continue
        assert r["status"] == "error", (kind, r)
        assert url in (r["error"] or ""), (kind, r)

    # Hostile pages: failed pages naming their URL; never published.
    failed = {sid: " ".join(r["failed_pages"]) for sid, r in results.items()}
    for url, kind in site.hostile_pages.items():
        sid = url.split("/")[3]
        assert url in failed[sid], (kind, url, results[sid])

    # Every healthy article published exactly once.
    out = tmp_path / "out"
    files = check_published(out)
    for sid, urls in site.healthy.items():
        r = results[sid]
        if not urls:
            continue
        assert r["status"] == "ok", r
        guids = feed_ids("rss.xml", files[f"{sid}/rss.xml"])
        assert len(guids) == len(set(guids)), (sid, guids)
        published = set(guids)
        missing = urls - published
        assert not missing, (sid, sorted(missing), r)
        assert published == urls, (sid, sorted(published - urls))
        items = json.loads(files[f"{sid}/feed.json"])["items"]
        for item in items:
            if item["url"] in urls:
                n, i = item["url"].split("/bai-")[1].split("-")[0], sid[1:]
                assert item["title"] == f"Tin {n} của nguồn {i}: Hà Nội mùa thu", item["title"]
    # status.json (and `feeder status`) name the failing sources and their error.
    status = {s["id"]: s for s in json.loads(files["status.json"])["sources"]}
    for sid, kind in site.hostile_listings.items():
        if kind != "garbage":
            assert status[sid]["ok"] is False and status[sid]["consecutive_failures"] == 1
            assert results[sid]["error"] == status[sid]["last_error"]
    if not second_run:
        return
    # A second run publishes nothing twice.
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.poll_run", str(config), "--retries", "0",
         "--backoff", "0.01", "--max-wait", "0.05"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = check_published(out)
    for sid, urls in site.healthy.items():
        if urls:
            guids = feed_ids("rss.xml", files[f"{sid}/rss.xml"])
            assert len(guids) == len(set(guids)) and urls <= set(guids), sid


def test_hostile_server_20_sources(tmp_path: Path, hostile: HostileSite) -> None:
    _run(tmp_path, hostile, 20, second_run=False)


@pytest.mark.slow
def test_hostile_server_200_sources(tmp_path: Path, hostile: HostileSite,
                                    database_url: str) -> None:
    # Also on PostgreSQL (when FEEDER_TEST_POSTGRES is set): 8 workers writing at once.
    _run(tmp_path, hostile, 200, second_run=True, database=database_url)


def test_bomb_is_a_bomb() -> None:
    # The fixture itself: small on the wire, far beyond the RSS bound once inflated.
    data = bomb()
    assert len(data) < MAX_BYTES
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert len(d.decompress(data[:len(data) // 100])) == 10 * 1024 * 1024
    assert len(data) // 100 * 100 == len(data)

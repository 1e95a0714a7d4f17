"""Hostile answers at run time (issue 9): every number from outside bounded, one deadline per
poll, one source's failure recorded and never a crash, IPv6 literal sources, and connections made
to the address that was checked (DNS rebinding). Each test runs against real loopback servers.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from feeder import clock
from feeder.config import Settings
from feeder.fetch import Fetcher
from feeder.model import Page
from feeder.store import Store
from tests.support import hostile
from tests.support.http import LoopbackServer, loopback_counts_as_public
from tests.support.site import article_html, listing_html, write_config

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Hội nghị tổng kết công tác năm của tỉnh"
# The contract: a server's Retry-After is honoured up to a day; one poll takes at most this many
# links from its listings (feeder.fetch.MAX_RETRY_AFTER, feeder.pipeline.MAX_LINKS_PER_POLL).
MAX_RETRY_AFTER = 24 * 3600.0
MAX_LINKS_PER_POLL = 1000


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def serve_articles(srv: LoopbackServer, *slugs: str, listing: str = "/thoi-su/") -> list[str]:
    """A listing linking to healthy articles at ``/thoi-su/<slug>.html``; their URLs."""
    urls = [srv.url(f"/thoi-su/{slug}.html") for slug in slugs]
    for n, (slug, url) in enumerate(zip(slugs, urls, strict=True)):
        srv.route(f"/thoi-su/{slug}.html", article_html(url, f"{TITLE} số {n}", minute=n))
    srv.route(listing, listing_html(urls))
    return urls


def run_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "feeder", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=config.parent)


# -- Retry-After ----------------------------------------------------------------------------

def test_huge_retry_after_is_a_recorded_failure_not_a_crash(site: LoopbackServer,
                                                             tmp_path: Path) -> None:
    # Before: OverflowError; `run --once` died without its summary, without the site files, and
    # `feeder status` said the source was healthy.
    serve_articles(site, "a-1", listing="/calm/")
    site.route("/busy/", "busy", status=503, headers={"Retry-After": "99999999999999"})
    cfg = write_config(tmp_path / "feeder.toml",
                       {"out": "public", "database": "var/feeder.db", "host_delay": 0,
                        "respect_robots": False},
                       [{"id": "busy", "url": site.url("/busy/")},
                        {"id": "calm", "url": site.url("/calm/")}])
    (tmp_path / "var").mkdir()

    run = run_cli(cfg, "run", "--once")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    rows = {line.split()[0]: line for line in run.stdout.splitlines()[1:]}
    assert rows["busy"].split()[1] == "error" and "Retry-After 86400 s" in rows["busy"]
    assert rows["calm"].split()[1] == "ok"
    assert (tmp_path / "public" / "index.html").exists()
    assert (tmp_path / "public" / "calm" / "rss.xml").exists()

    status = run_cli(cfg, "status")
    assert "Traceback" not in status.stderr
    busy = next(line for line in status.stdout.splitlines() if line.startswith("busy"))
    assert "503" in busy, status.stdout
    store = Store(f"sqlite:///{tmp_path / 'var' / 'feeder.db'}")
    due = store.next_due("busy")
    store.close()
    assert due is not None and due - clock.now() <= timedelta(seconds=MAX_RETRY_AFTER + 60)


def test_retry_after_in_the_year_9999_is_asked_again_within_a_day(
        site: LoopbackServer, tmp_path: Path) -> None:
    site.route("/thoi-su/", "later", status=429,
               headers={"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"})
    cfg = hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                         hostile.source("later", site.url("/thoi-su/")))
    [result] = hostile.poll(cfg)
    assert result.status == "error" and result.retry_after == MAX_RETRY_AFTER
    store = Store(cfg.settings.database)
    due = store.next_due("later")
    health = store.health("later")
    store.close()
    assert due is not None and due - clock.now() <= timedelta(seconds=MAX_RETRY_AFTER + 60)
    assert health.consecutive_failures == 1 and "429" in (health.last_error or "")


def test_crawl_delay_is_bounded(site: LoopbackServer) -> None:
    site.route("/robots.txt", "User-agent: *\nCrawl-delay: 99999999999999\n",
               headers={"Content-Type": "text/plain"})
    site.route("/a", article_html(site.url("/a"), TITLE))
    sleeps: list[float] = []
    with Fetcher(Settings(host_delay=0.0), sleep=sleeps.append, max_wait=2.0) as f:
        f.get(site.url("/a"), allow_private=True)
        f.get(site.url("/a"), allow_private=True)
        assert f.host_delay(site.url("/a")) == 2.0
    assert sleeps and max(sleeps) <= 2.0


# -- one deadline per poll ------------------------------------------------------------------

def dripping(stop: threading.Event) -> Callable[[BaseHTTPRequestHandler], None]:
    """An article that never ends: a byte every 0.2 s, each read well inside the read timeout."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.end_headers()
        try:
            h.wfile.write(b"<html><body><p>")
            while not stop.wait(0.2):
                h.wfile.write(b"x")
                h.wfile.flush()
        except OSError:
            pass
        h.close_connection = True
    return handler


def test_two_dripping_article_pages_share_one_poll_deadline(site: LoopbackServer,
                                                             tmp_path: Path) -> None:
    # Before: each page got 4 attempts of up to connect + 2 x read timeout (3 s here): 24 s.
    stop = threading.Event()
    try:
        healthy = site.url("/thoi-su/a-1.html")
        site.route("/thoi-su/a-1.html", article_html(healthy, TITLE))
        slow = [site.url(f"/thoi-su/cham-{n}.html") for n in (1, 2)]
        for url in slow:
            site.route(url.removeprefix(site.url("")), dripping(stop))
        site.route("/thoi-su/", listing_html([healthy, *slow]))
        cfg = hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                             hostile.source("drip", site.url("/thoi-su/")),
                             connect_timeout=1.0, read_timeout=1.0, poll_timeout=4.0)
        started = time.monotonic()
        [result] = hostile.poll(cfg, retries=3, max_wait=0.5)
        took = time.monotonic() - started
    finally:
        stop.set()
    assert took < 4.0 + 2.0, (took, result)
    assert result.status == "ok" and result.new == 1 and result.links == 3, result
    assert result.failed_pages and "deadline" in " ".join(
        (*result.failed_pages, *result.warnings)), result


def test_links_per_listing_are_bounded(site: LoopbackServer, tmp_path: Path) -> None:
    links = [site.url(f"/thoi-su/tin-{n}.html") for n in range(3 * MAX_LINKS_PER_POLL)]
    site.route("/thoi-su/", listing_html(links))
    cfg = hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                         hostile.source("many", site.url("/thoi-su/")), max_articles_per_poll=1)
    [result] = hostile.poll(cfg)
    assert result.links == MAX_LINKS_PER_POLL


# -- one source's failure is that source's -------------------------------------------------

def test_an_unexpected_error_is_the_sources_failure_with_its_traceback_logged(
        site: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    serve_articles(site, "a-1", listing="/one/")
    serve_articles(site, "b-1", listing="/two/")
    cfg = hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                         hostile.source("one", site.url("/one/")),
                         hostile.source("two", site.url("/two/")))
    real = Store.record_poll

    def record_poll(self: Store, source: str, **kwargs: Any) -> Any:
        if source == "one":
            raise ZeroDivisionError("a bug while recording")
        return real(self, source, **kwargs)

    monkeypatch.setattr(Store, "record_poll", record_poll)
    with caplog.at_level(logging.ERROR, logger="feeder.pipeline"):
        results = {r.source: r for r in hostile.poll(cfg)}
    assert results["one"].status == "error" and "ZeroDivisionError" in (results["one"].error
                                                                          or "")
    assert results["two"].status == "ok" and results["two"].new == 1
    [logged] = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert "source=one" in logged.getMessage()
    assert (tmp_path / "public" / "index.html").exists()


# -- IPv6 literals --------------------------------------------------------------------------

def test_an_ipv6_literal_is_a_source(tmp_path: Path) -> None:
    with LoopbackServer(host="::1") as srv:
        urls = serve_articles(srv, "a-1", "b-2")
        assert srv.url("/").startswith("http://[::1]:")
        cfg = hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                             hostile.source("six", srv.url("/thoi-su/")))
        [result] = hostile.poll(cfg)
    assert result.status == "ok" and result.new == 2, result
    for label, links in hostile.links_in_every_format(cfg.settings.out, "six").items():
        assert sorted(links) == sorted(urls), label


# -- DNS rebinding --------------------------------------------------------------------------

@pytest.fixture
def no_system_dns_for_public_name(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """System DNS answers ``news.test`` with ::1 (a rebinding to a private address) and
    records the lookup; feeder's own resolver (``hostile.resolver``) answers 127.0.0.1."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == hostile.PUBLIC_NAME:
            asked.append(host)
            return real("::1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_the_connection_goes_to_the_checked_address(
        monkeypatch: pytest.MonkeyPatch, no_system_dns_for_public_name: list[str]) -> None:
    loopback_counts_as_public(monkeypatch)
    # The rebound address (::1) listens on the same port, answering as a private service would.
    with LoopbackServer(host="::1") as private, LoopbackServer(port=private.port) as checked:
        checked.route("/a", article_html(checked.url("/a"), TITLE))
        private.route("/a", "internal secrets")
        with Fetcher(Settings(host_delay=0.0, respect_robots=False),
                     resolver=hostile.resolver) as f:
            page = f.get(hostile.public_url(checked.port, "/a"))
    assert isinstance(page, Page) and TITLE in page.text
    assert private.requests == [] and no_system_dns_for_public_name == []
    assert checked.requests[0].headers["Host"] == f"{hostile.PUBLIC_NAME}:{checked.port}"


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={hostile.PUBLIC_NAME}",
                    "-addext", f"subjectAltName=DNS:{hostile.PUBLIC_NAME}"],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_https_to_the_checked_address_names_and_verifies_the_host(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        no_system_dns_for_public_name: list[str]) -> None:
    # The request goes to 127.0.0.1, yet TLS sends SNI news.test and checks the certificate
    # against news.test (it names no IP address, so checking the address would fail).
    loopback_counts_as_public(monkeypatch)
    cert, key = _self_signed(tmp_path)
    with LoopbackServer(tls=(cert, key)) as srv:
        srv.route("/a", article_html(srv.url("/a"), TITLE))
        with Fetcher(Settings(host_delay=0.0, respect_robots=False),
                     resolver=hostile.resolver) as f:
            f.session.verify = cert
            page = f.get(f"https://{hostile.PUBLIC_NAME}:{srv.port}/a")
    assert isinstance(page, Page) and TITLE in page.text
    assert no_system_dns_for_public_name == []

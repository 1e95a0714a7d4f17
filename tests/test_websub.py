"""WebSub publishing: every feed names its hubs and itself; a change is announced to the hubs,
an unchanged feed never is; failures are retried with backoff and shown by ``feeder status``.

The hub is demo/hub.py on 127.0.0.1 (it records every publish notification and, like any hub,
delivers the new content to verified subscribers).
"""

from __future__ import annotations

import hmac
import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
import requests
from lxml import etree

from feeder import clock
from feeder.cli import main
from feeder.config import Settings
from feeder.model import SourceFeed
from feeder.publish import publish_site, publish_source
from feeder.publish.websub import (
    BACKOFF_MAX,
    GIVE_UP_AFTER,
    HubNotifier,
    retry_at,
    topics,
)
from feeder.store import Store
from tests.support.demo import demo_hub, demo_site
from tests.test_publish_fixtures import BASE_URL, CA_MAU, article, sample_feeds

ATOM = "{http://www.w3.org/2005/Atom}"
HUBS = ("http://127.0.0.1:9/hub-a", "http://127.0.0.1:9/hub-b")
FILES = ("rss.xml", "atom.xml", "feed.json")


def publish(settings: Settings, feeds: list[SourceFeed]) -> list[Path]:
    changed: list[Path] = []
    for feed in feeds:
        changed += publish_source(settings, feed)
    return changed + publish_site(settings, feeds)


def _links(root: etree._Element, parent: str, rel: str) -> list[str]:
    return [el.get("href") for el in root.iterfind(f"{parent}{ATOM}link") if el.get("rel") == rel]


@pytest.mark.parametrize("key", ["baocamau", "all"])
def test_every_format_declares_its_hubs_and_itself(tmp_path: Path, key: str) -> None:
    out = tmp_path / "public"
    publish(Settings(out=out, base_url=BASE_URL, hubs=HUBS), sample_feeds())
    folder = out / key
    rss = etree.parse(str(folder / "rss.xml")).getroot()
    assert _links(rss, "channel/", "hub") == list(HUBS)
    assert _links(rss, "channel/", "self") == [f"{BASE_URL}{key}/rss.xml"]
    atom = etree.parse(str(folder / "atom.xml")).getroot()
    assert _links(atom, "", "hub") == list(HUBS)
    assert _links(atom, "", "self") == [f"{BASE_URL}{key}/atom.xml"]
    doc = json.loads((folder / "feed.json").read_text("utf-8"))
    assert doc["hubs"] == [{"type": "WebSub", "url": h} for h in HUBS]
    assert doc["feed_url"] == f"{BASE_URL}{key}/feed.json"
    # What a subscriber's reader discovers (feedparser keeps every atom:link of the feed).
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((folder / name).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert [ln.href for ln in parsed.feed.links if ln.rel == "hub"] == list(HUBS)
        assert [ln.href for ln in parsed.feed.links if ln.rel == "self"] == \
            [f"{BASE_URL}{key}/{name}"]


def test_no_hub_configured_declares_none(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish(Settings(out=out, base_url=BASE_URL), sample_feeds())
    for name in FILES:
        data = (out / "baocamau" / name).read_text("utf-8")
        assert 'rel="hub"' not in data and '"hubs"' not in data


@pytest.fixture
def hub() -> Iterator[Any]:
    with demo_hub() as h:
        yield h


def _sent(hub: Any) -> list[str]:
    return sorted(p.topic for p in hub.pings)


def test_pings_only_the_feeds_whose_bytes_changed(tmp_path: Path, hub: Any,
                                                  database_url: str) -> None:
    out = tmp_path / "public"
    settings = Settings(out=out, base_url=BASE_URL, hubs=(hub.url,))
    store = Store(database_url)
    notifier = HubNotifier(settings, store)
    feeds = sample_feeds()

    notifier.queue(publish(settings, feeds))
    assert hub.pings == []  # publishing queues; it never talks to the hub itself
    assert notifier.drain().sent == 9
    every = sorted(f"{BASE_URL}{key}/{name}" for key in ("baocamau", "baohaugiang", "all")
                   for name in FILES)
    assert _sent(hub) == every  # each feed once, never a .gz twin, index or status file
    assert {p.content_type for p in hub.pings} == {"application/x-www-form-urlencoded"}

    # Published again unchanged: nothing is written, so nothing is announced.
    assert notifier.queue(publish(settings, feeds)) == 0
    assert notifier.drain().sent == 0
    assert len(hub.pings) == 9

    # One article of one source edited: that source's feeds and the combined ones, once each.
    edited = article(CA_MAU, 1, title="Khánh thành cầu Rạch Ráng (cập nhật)")
    feeds[0] = replace(feeds[0], articles=(feeds[0].articles[0], edited, *feeds[0].articles[2:]))
    notifier.queue(publish(settings, feeds))
    notifier.queue(publish(settings, feeds))  # a second build of the same state adds nothing
    assert notifier.drain().sent == 6
    assert sorted(p.topic for p in hub.pings[9:]) == sorted(
        f"{BASE_URL}{key}/{name}" for key in ("baocamau", "all") for name in FILES)
    store.close()


def test_failed_pings_back_off_show_in_status_and_then_succeed(tmp_path: Path, hub: Any,
                                                               capsys: Any) -> None:
    db = tmp_path / "feeder.db"
    cfg = tmp_path / "feeder.toml"
    cfg.write_text(f'[feeder]\nout = "public"\ndatabase = "{db}"\nbase_url = "{BASE_URL}"\n'
                   f'hub = "{hub.url}"\n', "utf-8")
    settings = Settings(out=tmp_path / "public", base_url=BASE_URL, hubs=(hub.url,))
    store = Store(db)
    notifier = HubNotifier(settings, store)
    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    clock.freeze(t0)
    notifier.queue([settings.out / "baocamau" / "atom.xml"])
    hub.fail_next = 2  # the hub answers 503 twice

    assert notifier.drain().failed == 1
    [ping] = store.hub_pings()
    assert (ping.state, ping.attempts, ping.due_at) == ("pending", 1, t0 + timedelta(minutes=1))
    assert "HTTP 503" in (ping.last_error or "")
    assert main(["--config", str(cfg), "status"]) == 0  # retrying is not (yet) a failure
    shown = capsys.readouterr().out
    assert f"hub {hub.url} {BASE_URL}baocamau/atom.xml: 1 failed attempt(s)" in shown
    assert "HTTP 503" in shown

    clock.freeze(t0 + timedelta(seconds=59))
    assert notifier.drain() == type(notifier.drain())()  # not due yet: nothing is tried
    assert hub.fail_next == 1
    clock.freeze(t0 + timedelta(minutes=1))
    assert notifier.drain().failed == 1
    [ping] = store.hub_pings()
    assert (ping.attempts, ping.due_at) == (2, t0 + timedelta(minutes=3))  # doubled
    clock.freeze(t0 + timedelta(minutes=3))
    assert notifier.drain().sent == 1
    [ping] = store.hub_pings()
    assert (ping.state, ping.last_error) == ("sent", None)
    assert [p.topic for p in hub.pings] == [f"{BASE_URL}baocamau/atom.xml"]
    assert main(["--config", str(cfg), "status"]) == 0
    assert "hub " not in capsys.readouterr().out

    # A hub that never answers: given up after GIVE_UP_AFTER attempts, and status exits 1.
    notifier.queue([settings.out / "baocamau" / "rss.xml"])
    hub.fail_next = GIVE_UP_AFTER
    for _ in range(GIVE_UP_AFTER):
        clock.freeze(clock.now() + BACKOFF_MAX)
        notifier.drain()
    failed = [p for p in store.hub_pings() if p.state == "failed"]
    assert [(p.topic, p.attempts) for p in failed] == [(f"{BASE_URL}baocamau/rss.xml",
                                                        GIVE_UP_AFTER)]
    assert main(["--config", str(cfg), "status"]) == 1
    assert "gave up" in capsys.readouterr().out
    store.close()


def test_backoff_doubles_up_to_a_cap_then_gives_up() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    delays = [retry_at(n, now) for n in range(1, GIVE_UP_AFTER + 1)]
    steps = [d - now for d in delays if d is not None]
    assert steps[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(steps) == BACKOFF_MAX and steps == sorted(steps)
    assert delays[-1] is None  # the last allowed attempt failed: give up


def test_topics_are_the_feed_files_as_public_urls(tmp_path: Path) -> None:
    out = tmp_path / "public"
    changed = [out / "a" / "rss.xml", out / "a" / "rss.xml.gz", out / "index.html",
               out / "all" / "feed.json", out / "a" / "archive" / "2020-12.xml"]
    assert topics(changed, out, "https://feeds.example.org/vn/") == [
        "https://feeds.example.org/vn/a/rss.xml", "https://feeds.example.org/vn/all/feed.json"]


class _Subscriber:
    """A WebSub subscriber's callback on 127.0.0.1: confirms intent, records deliveries."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.got = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # intent verification: echo the challenge
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                body = query.get("hub.challenge", [""])[0].encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.got:
                    outer.deliveries.append((dict(self.headers.items()), body))
                    outer.got.notify_all()
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def demo_publisher(tmp_path: Path, hub_url: str) -> Iterator[tuple[Path, str, Path]]:
    """The demo site, a configuration polling it with ``hub_url`` as the hub, and `feeder serve`
    over the output folder: yields (config file, feeds base URL, output folder)."""
    from feeder.serve import serve_in_thread

    out = tmp_path / "public"
    out.mkdir()
    server, _ = serve_in_thread(out)
    feeds_base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with demo_site() as site:
            bundled = (Path(__file__).resolve().parent.parent / "feeds" / "demo.toml"
                       ).read_text("utf-8").replace("http://127.0.0.1:8081/", site)
            (tmp_path / "feeds").mkdir()
            (tmp_path / "feeds" / "demo.toml").write_text(bundled, "utf-8")
            cfg = tmp_path / "feeder.toml"
            cfg.write_text(f'[feeder]\nout = "public"\ndatabase = "var/feeder.db"\n'
                           f'host_delay = 0.0\nbase_url = "{feeds_base}"\nhub = "{hub_url}"\n',
                           "utf-8")
            yield cfg, feeds_base, out
    finally:
        server.shutdown()
        server.server_close()


def run_once(cfg: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg), "run", "--once"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_run_once_announces_to_the_hub_which_pushes_to_a_subscriber(tmp_path: Path,
                                                                    hub: Any) -> None:
    """`feeder run --once` on the demo site, its feeds served by `feeder serve`: the hub is told,
    fetches the feed and pushes it to a subscriber; a second run with nothing new tells nobody."""
    subscriber = _Subscriber()
    with demo_publisher(tmp_path, hub.url) as (cfg, feeds_base, out):
        topic = f"{feeds_base}tanphuoc/atom.xml"
        try:
            answer = requests.post(hub.url, data={"hub.mode": "subscribe", "hub.topic": topic,
                                                  "hub.callback": subscriber.url}, timeout=5)
            assert answer.status_code == 202
            assert hub.wait_for(lambda h: subscriber.url in h.subscribers.get(topic, {}))

            run_once(cfg)
            served = requests.get(topic, timeout=5)  # WebSub discovery by HTTP header too
            assert served.headers["Link"] == f'<{hub.url}>; rel="hub", <{topic}>; rel="self"'
            assert {p.topic for p in hub.pings} == {
                f"{feeds_base}{key}/{name}" for key in ("tanphuoc", "all") for name in FILES}
            with subscriber.got:
                assert subscriber.got.wait_for(lambda: subscriber.deliveries, 10)
            headers, body = subscriber.deliveries[0]
            assert body == (out / "tanphuoc" / "atom.xml").read_bytes()
            assert f'<{topic}>; rel="self"' in headers["Link"]
            parsed = feedparser.parse(body)
            assert parsed.entries and not parsed.bozo

            run_once(cfg)  # nothing new on the site: no file changes, no ping
            assert len(hub.pings) == 6
        finally:
            subscriber.close()


@contextmanager
def flask_websub_hub(tmp_path: Path) -> Iterator[str]:
    """Flask-WebSub's hub (PyPI ``flask-websub``) on 127.0.0.1, Celery in eager mode (no broker):
    a hub written by others, to check feeder against. Yields its URL."""
    celery_mod = pytest.importorskip("celery")
    flask = pytest.importorskip("flask")
    websub_hub = pytest.importorskip("flask_websub.hub")
    from werkzeug.serving import make_server

    celery = celery_mod.Celery("hub")
    celery.conf.task_always_eager = True  # tasks run inside the request: no broker, no worker
    app = flask.Flask("hub")
    app.config["PUBLISH_SUPPORTED"] = True
    hub = websub_hub.Hub(websub_hub.SQLite3HubStorage(str(tmp_path / "hub.db")), celery,
                         PUBLISH_SUPPORTED=True, MAX_ATTEMPTS=2, BACKOFF_BASE=0.1)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hub"
    finally:
        server.shutdown()
        thread.join(5)


def test_a_real_hub_flask_websub_pushes_feeders_new_feed_to_a_subscriber(tmp_path: Path) -> None:
    """Through Flask-WebSub's hub: it verifies the subscriber, takes feeder's publish ping, finds
    the feed's hub and self in its Link header, and delivers the new bytes, signed."""
    subscriber = _Subscriber()
    secret = "bí mật của người đọc"
    with flask_websub_hub(tmp_path) as hub_url, \
            demo_publisher(tmp_path, hub_url) as (cfg, feeds_base, out):
        topic = f"{feeds_base}tanphuoc/atom.xml"
        try:
            answer = requests.post(hub_url, data={
                "hub.mode": "subscribe", "hub.topic": topic, "hub.callback": subscriber.url,
                "hub.secret": secret}, timeout=10)
            assert answer.status_code == 202, answer.text
            run_once(cfg)
            with subscriber.got:
                assert subscriber.got.wait_for(lambda: subscriber.deliveries, 20)
            headers, body = subscriber.deliveries[0]
            assert body == (out / "tanphuoc" / "atom.xml").read_bytes()
            assert f'<{topic}>; rel="self"' in headers["Link"]
            algorithm, _, digest = headers["X-Hub-Signature"].partition("=")
            assert hmac.compare_digest(
                digest, hmac.new(secret.encode(), body, algorithm).hexdigest())
            assert feedparser.parse(body).entries
        finally:
            subscriber.close()

"""The whole path on real parts: a loopback site, a real SQLite file, real feed files.

Checks issue #2's promises: conditional requests on the second run and no rewritten file; one
article through two URLs is one item; an edited article is updated in place; a failing source
does not stop the others.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest

from feeder.config import Config, Settings, Source
from feeder.fetch import Fetcher
from feeder.pipeline import Poller
from feeder.store import Store
from tests.support.http import LoopbackServer
from tests.support.site import article_html, listing_html


def listing(*links: str) -> str:
    return listing_html(links)


def article_page(srv: LoopbackServer, slug: str, title: str) -> str:
    return article_html(srv.url(f"/thoi-su/{slug}.html"), title)


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def make_config(tmp_path: Path, database_url: str, *sources: Source) -> Config:
    settings = Settings(out=tmp_path / "public", database=database_url,
                        base_url="http://127.0.0.1:8080/", host_delay=0.0, respect_robots=False,
                        workers=2)
    return Config(settings=settings, sources=sources)


def source(srv: LoopbackServer, sid: str = "thu", path: str = "/thoi-su/") -> Source:
    return Source(id=sid, name="Báo Thử Nghiệm", urls=(srv.url(path),),
                  interval=timedelta(minutes=15))


def poll_all(cfg: Config) -> list:
    store = Store(cfg.settings.database)
    # Real retries with backoff, only shorter than in production.
    with Fetcher(cfg.settings, backoff=0.01, max_wait=0.05) as fetcher:
        results = Poller(cfg, store, fetcher).run_once()
    store.close()
    return results


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every published file's bytes and mtime."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_conditional_requests_and_identical_files(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    etag = {"ETag": '"list-v1"'}
    site.route("/thoi-su/", listing("/thoi-su/a-1.html", "/thoi-su/b-2.html"), headers=etag)
    site.route("/thoi-su/a-1.html", article_page(site, "a-1", "Hội nghị tổng kết công tác"),
               headers={"ETag": '"a1"'})
    site.route("/thoi-su/b-2.html", article_page(site, "b-2", "Khánh thành cầu mới"),
               headers={"Last-Modified": "Tue, 22 Dec 2020 10:05:00 GMT"})
    cfg = make_config(tmp_path, database_url, source(site))

    [first] = poll_all(cfg)
    assert first.status == "ok" and first.new == 2, first
    out = cfg.settings.out / "thu"
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert {e.title for e in parsed.entries} == {"Hội nghị tổng kết công tác",
                                                     "Khánh thành cầu mới"}
    before = snapshot(cfg.settings.out)
    n_requests = len(site.requests)

    [second] = poll_all(cfg)
    assert second.status == "not-modified" and second.new == 0
    listing_requests = site.requests_to("/thoi-su/")
    assert listing_requests[-1].headers.get("If-None-Match") == '"list-v1"'
    # No article is fetched again on an idle poll before its first edit check is due.
    assert len(site.requests) == n_requests + 1
    assert snapshot(cfg.settings.out) == before


def test_one_article_through_two_urls_is_one_item(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    site.route("/thoi-su/", listing("/thoi-su/a-1.html?utm_source=zalo&utm_medium=social",
                                    "/thoi-su/a-1.html#binh-luan",
                                    "/thoi-su/a-1.html?fbclid=xyz"))
    site.route("/thoi-su/a-1.html", article_page(site, "a-1", "Một bài, ba đường dẫn"))
    cfg = make_config(tmp_path, database_url, source(site))
    [result] = poll_all(cfg)
    assert result.new == 1
    assert len(site.requests_to("/thoi-su/a-1.html")) + len(
        [r for r in site.requests if r.path.startswith("/thoi-su/a-1.html?")]) == 1
    items = json.loads((cfg.settings.out / "thu" / "feed.json").read_text())["items"]
    assert [i["url"] for i in items] == [site.url("/thoi-su/a-1.html")]


def test_edited_article_is_updated_in_place(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    from feeder import clock

    site.route("/thoi-su/", listing("/thoi-su/a-1.html"))
    site.route("/thoi-su/a-1.html", article_page(site, "a-1", "Bản đầu tiên"))
    cfg = make_config(tmp_path, database_url, source(site))
    [r1] = poll_all(cfg)
    assert r1.new == 1
    rss = cfg.settings.out / "thu" / "rss.xml"
    guid_before = feedparser.parse(rss.read_bytes()).entries[0].id

    # Two hours later the page was edited; the edit check (1 h after first seen) finds it.
    site.route("/thoi-su/a-1.html", article_page(site, "a-1", "Bản đã sửa"))
    site.route("/thoi-su/", listing("/thoi-su/a-1.html"))
    clock.freeze(clock.now() + timedelta(hours=2))
    [r2] = poll_all(cfg)
    assert (r2.new, r2.updated) == (0, 1), r2
    entries = feedparser.parse(rss.read_bytes()).entries
    assert [e.title for e in entries] == ["Bản đã sửa"]
    assert entries[0].id == guid_before
    atom = feedparser.parse((cfg.settings.out / "thu" / "atom.xml").read_bytes()).entries[0]
    assert atom.updated_parsed > atom.published_parsed


def test_failing_source_does_not_stop_the_others(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    site.route("/thoi-su/", listing("/thoi-su/a-1.html"))
    site.route("/thoi-su/a-1.html", article_page(site, "a-1", "Tin vẫn lên"))
    site.route("/hong/", "<h1>Lỗi máy chủ</h1>", status=500)
    broken = Source(id="hong", name="Hỏng", urls=(site.url("/hong/"),))
    gone = Source(id="mat", name="Mất", urls=("http://127.0.0.1:9/",))  # nothing listens
    garbage = Source(id="rac", name="Rác", urls=(site.url("/rac/"),))
    site.route("/rac/", os.urandom(3000), headers={"Content-Type": "application/octet-stream"})
    cfg = make_config(tmp_path, database_url, broken, source(site), gone, garbage)
    results = {r.source: r for r in poll_all(cfg)}
    assert results["thu"].status == "ok" and results["thu"].new == 1
    for sid in ("hong", "mat", "rac"):
        assert results[sid].status == "error", results[sid]
        assert results[sid].error
    assert (cfg.settings.out / "thu" / "rss.xml").exists()
    store = Store(cfg.settings.database)
    assert store.health("hong").consecutive_failures == 1
    assert store.health("hong").next_due is not None
    store.close()


def test_published_files_survive_a_broken_source(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    site.route("/thoi-su/", listing("/thoi-su/a-1.html"))
    site.route("/thoi-su/a-1.html", article_page(site, "a-1", "Đã đăng"))
    cfg = make_config(tmp_path, database_url, source(site))
    poll_all(cfg)
    rss = cfg.settings.out / "thu" / "rss.xml"
    before = rss.read_bytes()
    site.route("/thoi-su/", "down", status=503)
    [r] = poll_all(cfg)
    assert r.status == "error"
    assert rss.read_bytes() == before


def test_retry_after_on_the_listing_postpones_the_source(
        site: LoopbackServer, tmp_path: Path) -> None:
    from feeder import clock

    site.route("/thoi-su/", "bận", status=503, headers={"Retry-After": "7200"})
    cfg = make_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", source(site))
    [r] = poll_all(cfg)
    assert r.status == "error" and r.retry_after == 7200
    store = Store(cfg.settings.database)
    due = store.next_due("thu")
    store.close()
    assert due is not None and due >= clock.now() + timedelta(seconds=7100)


def test_robots_txt_is_remembered_across_runs(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    """`run --once` from cron: robots.txt is asked once a day, not on every run."""
    site.route("/robots.txt", "User-agent: *\nDisallow: /rieng/\n",
               headers={"Content-Type": "text/plain"})
    site.route("/thoi-su/", listing("/thoi-su/a-1.html", "/rieng/b-2.html"),
               headers={"ETag": '"l1"'})
    site.route("/thoi-su/a-1.html", article_page(site, "a-1", "Được phép"))
    site.route("/rieng/b-2.html", article_page(site, "b-2", "Không được phép"))
    cfg = make_config(tmp_path, database_url, source(site))
    cfg = Config(settings=replace(cfg.settings, respect_robots=True), sources=cfg.sources)
    for _ in range(2):
        store = Store(cfg.settings.database)
        with Fetcher(cfg.settings, backoff=0.01, robots_cache=store) as fetcher:
            [result] = Poller(cfg, store, fetcher).run_once()
        store.close()
        assert result.status in ("ok", "not-modified"), result
    assert len(site.requests_to("/robots.txt")) == 1
    assert site.requests_to("/rieng/b-2.html") == []
    items = json.loads((cfg.settings.out / "thu" / "feed.json").read_text())["items"]
    assert [i["title"] for i in items] == ["Được phép"]

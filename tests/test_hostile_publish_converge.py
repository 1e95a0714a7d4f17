"""Publishing converges (issue 9): every poll makes each feed's files equal the store, whatever
happened before, and the three formats and their ``.gz`` never disagree.

Real parts: a loopback site, real SQLite and PostgreSQL, real files; the full-disk test mounts a
small tmpfs (root only; skipped with the reason elsewhere).
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from feeder.config import Config
from feeder.errors import StoreError
from feeder.model import article_id
from feeder.store import Intent, Store
from tests.support.http import LoopbackServer
from tests.support.site import article_html, feed_ids, listing_html
from tests.test_pipeline import make_config, poll_all, source

FORMATS = ("rss.xml", "atom.xml", "feed.json")


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def _serve(site: LoopbackServer, n: int) -> None:
    """The listing shows articles 0 .. n-1, each with a long enough body."""
    body = "<p>" + "Đoạn văn dài về sự kiện của tỉnh, với nhiều chi tiết. " * 30 + "</p>"
    site.route("/thoi-su/", listing_html(f"/thoi-su/bai-{i}.html" for i in range(n)))
    for i in range(n):
        site.route(f"/thoi-su/bai-{i}.html", article_html(
            site.url(f"/thoi-su/bai-{i}.html"), f"Bài {i}: hội nghị tổng kết công tác năm",
            body=body, minute=i))


def assert_files_equal_store(cfg: Config, sid: str = "thu") -> set[str]:
    """Each format of ``sid`` holds exactly the stored articles, and each ``.gz`` is its plain
    file; returns the item ids."""
    store = Store(cfg.settings.database)
    try:
        stored = {f"urn:uuid:{article_id(a.url)}"
                  for a in store.articles_for(sid, 1000)}
    finally:
        store.close()
    folder = cfg.settings.out / sid
    for name in FORMATS:
        plain = (folder / name).read_bytes()
        assert gzip.decompress((folder / f"{name}.gz").read_bytes()) == plain, name
        ids = feed_ids(name, plain)
        if name == "rss.xml":  # RSS guids are the URLs
            ids = [f"urn:uuid:{article_id(u)}" for u in ids]
        assert set(ids) == stored, (name, len(ids), len(stored))
    return stored


def assert_formats_agree(folder: Path) -> None:
    """Plain files and their .gz agree, and the three formats list the same items."""
    items = []
    for name in FORMATS:
        plain = (folder / name).read_bytes()
        assert gzip.decompress((folder / f"{name}.gz").read_bytes()) == plain, (
            f"{name}.gz differs from {name}")
        ids = feed_ids(name, plain)
        items.append(len(ids))
    assert len(set(items)) == 1, dict(zip(FORMATS, items, strict=True))


def test_files_catch_up_with_articles_stored_by_a_run_that_never_published(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    """A kill -9 between the store write and publishing: the next poll, which finds nothing
    new, still rewrites the files (today: never, because publishing waited for news)."""
    _serve(site, 3)
    cfg = make_config(tmp_path, database_url, source(site))
    poll_all(cfg)
    assert len(assert_files_equal_store(cfg)) == 3

    # What a killed run leaves: two more articles stored, their feed never written.
    store = Store(database_url)
    from tests.test_store import article

    store.apply("thu", [Intent("new", replace(article(n), source="thu"), article(n).url)
                        for n in (7, 8)])
    store.close()

    [result] = poll_all(cfg)
    assert result.status in ("ok", "not-modified") and result.new == 0, result
    assert len(assert_files_equal_store(cfg)) == 5


def test_a_failing_listing_does_not_keep_stored_articles_from_the_files(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    """The store holds articles the files lack, and today the site answers 404: the poll
    fails, and still publishes what is stored."""
    _serve(site, 2)
    cfg = make_config(tmp_path, database_url, source(site))
    poll_all(cfg)
    store = Store(database_url)
    from tests.test_store import article

    store.apply("thu", [Intent("new", replace(article(7), source="thu"), article(7).url)])
    store.close()
    site.route("/thoi-su/", "gone", status=404)
    [result] = poll_all(cfg)
    assert result.status == "error" and "404" in (result.error or ""), result
    assert len(assert_files_equal_store(cfg)) == 3


def test_a_changed_configuration_reaches_the_files_without_news(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    _serve(site, 2)
    cfg = make_config(tmp_path, database_url, source(site))
    poll_all(cfg)
    renamed = replace(cfg, sources=(replace(cfg.sources[0], name="Báo Đổi Tên"),))
    [result] = poll_all(renamed)
    assert result.new == 0
    feed = json.loads((cfg.settings.out / "thu" / "feed.json").read_bytes())
    assert feed["title"] == "Báo Đổi Tên"


def test_an_idle_poll_reads_no_article_and_writes_no_file(
        site: LoopbackServer, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    _serve(site, 2)
    cfg = make_config(tmp_path, database_url, source(site))
    poll_all(cfg)
    before = {p: p.stat().st_mtime_ns for p in (cfg.settings.out / "thu").iterdir()}
    reads: list[str] = []
    original = Store.articles_for
    monkeypatch.setattr(Store, "articles_for",
                        lambda self, sid, limit: reads.append(sid) or original(self, sid, limit))
    poll_all(cfg)
    assert reads == []
    assert {p: p.stat().st_mtime_ns for p in (cfg.settings.out / "thu").iterdir()} == before


# -- a full disk ------------------------------------------------------------------------------

@contextlib.contextmanager
def _small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("full-disk test: mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"full-disk test: cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem of ``folder``, then free ``leave`` bytes; returns the filler."""
    filler = folder / "filler"
    with filler.open("wb") as fh:
        block = b"\0" * 65536
        while True:
            try:
                fh.write(block)
                fh.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
        with contextlib.suppress(OSError):
            fh.close()
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave))
    return filler


def test_a_full_disk_leaves_the_formats_agreeing_and_the_next_run_converges(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    with _small_tmpfs(tmp_path / "disk", "4m") as disk:
        _serve(site, 20)
        cfg = make_config(tmp_path, database_url, source(site))
        cfg = replace(cfg, settings=replace(cfg.settings, out=disk / "out"))
        poll_all(cfg)
        assert len(assert_files_equal_store(cfg)) == 20
        folder = cfg.settings.out / "thu"
        plain = min((folder / n).stat().st_size for n in FORMATS)
        gz = max((folder / f"{n}.gz").stat().st_size for n in FORMATS)
        # Room for every .gz but not for one plain file: writing .gz first (today's order)
        # leaves them ahead of their plain files.
        room = (gz * 3 + plain) // 2
        assert room < plain, (gz, plain)

        _serve(site, 30)
        filler = _fill(disk, room)
        [result] = poll_all(cfg)
        assert result.status == "error" and "No space left" in (result.error or ""), result
        store = Store(database_url)
        assert store.count_articles("thu") == 30  # stored before publishing failed
        store.close()
        assert_formats_agree(folder)
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]

        filler.unlink()
        [result] = poll_all(cfg)  # nothing new on the site: the store is ahead of the files
        assert result.new == 0, result
        assert len(assert_files_equal_store(cfg)) == 30


@pytest.mark.parametrize("leave_kb", [0, 8, 32, 96, 192])
def test_a_full_disk_at_any_step_is_survived_and_the_next_run_converges(
        site: LoopbackServer, tmp_path: Path, leave_kb: int) -> None:
    """The database (SQLite, WAL) and the output share one small disk; it fills while a poll
    stores and publishes new articles, leaving room for a different step each time (nothing,
    part of the store's writes, some of the files, ...). Whatever step fails, the run ends
    with a result, the formats and their .gz agree, and once space is freed the next run
    makes every file equal the store."""
    with _small_tmpfs(tmp_path / "disk", "6m") as disk:
        _serve(site, 10)
        cfg = make_config(tmp_path, f"sqlite:///{disk / 'feeder.db'}", source(site))
        cfg = replace(cfg, settings=replace(cfg.settings, out=disk / "out"))
        poll_all(cfg)
        assert len(assert_files_equal_store(cfg)) == 10

        _serve(site, 25)
        filler = _fill(disk, leave_kb * 1024)
        try:
            [result] = poll_all(cfg)  # a value whatever failed in the poll
        except StoreError as exc:
            # No room even to open the database (SQLite's shared-memory file): a clear run-time
            # error before anything is fetched or written.
            assert "cannot open the database" in str(exc), exc
        else:
            assert result.status in ("ok", "error"), result
        assert_formats_agree(cfg.settings.out / "thu")

        filler.unlink()
        poll_all(cfg)
        assert len(assert_files_equal_store(cfg)) == 25


# -- one builder per feed -------------------------------------------------------------------------

def test_an_older_view_never_replaces_newer_files(
        site: LoopbackServer, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """Worker A has read the feed's articles and is slow to write them; meanwhile a new article
    is stored and worker B publishes. A's older view must not land on top of B's files."""
    from feeder import pipeline
    from feeder.fetch import Fetcher
    from feeder.pipeline import Poller
    from tests.test_store import article

    _serve(site, 2)
    cfg = make_config(tmp_path, database_url, source(site))
    poll_all(cfg)
    real_publish = pipeline.publish_files
    a_has_read, a_may_write = threading.Event(), threading.Event()

    def slow_publish(settings, files, **kw):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "worker-a":
            a_has_read.set()
            a_may_write.wait(5)
        return real_publish(settings, files, **kw)

    monkeypatch.setattr(pipeline, "publish_files", slow_publish)
    stores = [Store(database_url) for _ in range(3)]
    with Fetcher(cfg.settings) as fetcher:
        a, b = (Poller(cfg, s, fetcher) for s in stores[:2])
        worker_a = threading.Thread(target=a.publish, args=(cfg.sources[0],),
                                    kwargs={"force": True}, name="worker-a")
        worker_a.start()
        assert a_has_read.wait(10)
        newer = replace(article(9), source="thu")
        writer = threading.Thread(target=stores[2].apply,
                                  args=("thu", [Intent("new", newer, newer.url)]))
        writer.start()
        writer.join(0.5)  # (it may wait for A's build lock)
        worker_b = threading.Thread(target=b.publish, args=(cfg.sources[0],))
        worker_b.start()
        worker_b.join(0.5)
        a_may_write.set()
        for t in (worker_a, writer, worker_b):
            t.join(30)
        # Whoever built last, the store says whether the files are current; if they are, they
        # hold the newer article. One more poll's publish then always gets there.
        if not stores[2].feed_state("thu").behind:
            assert len(assert_files_equal_store(cfg)) == 3
        b.publish(cfg.sources[0])
    for s in stores:
        s.close()
    assert len(assert_files_equal_store(cfg)) == 3

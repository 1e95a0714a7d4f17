"""Many writers on one database (issue 11 §2, issue 9 "two processes on a fresh database").

Real SQLite files and real PostgreSQL (the ``database_url`` fixture). Each test races two
writers, as threads (one Store each, as two workers would have) and as processes, on every
write the store makes, many rounds over fresh keys: no error and no duplicate, and counters
that count every writer's call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from feeder import clock
from feeder.errors import StoreError
from feeder.model import Article, CacheInfo
from feeder.store import (
    SCHEMA_VERSION,
    Intent,
    Store,
    articles,
    feeds,
    meta_table,
    pages,
    poll_days,
    poll_warnings,
    robots,
    sources,
    websub_pings,
)

T0 = datetime(2020, 12, 22, 10, 0, tzinfo=UTC)
ROUNDS = 15
WRITES = ("record_poll", "record_page_failure", "put_robots", "apply_new", "apply_updated",
          "apply_listing", "apply_not_modified", "count_poll", "queue_pings", "record_ping",
          "claim_feed", "record_warnings")
HUB = "http://hub.example/"


def _article(n: int) -> Article:
    return Article(url=f"http://bao.example.vn/thoi-su/bai-{n}.html", title=f"Tiêu đề {n}",
                   source="bao", content_html="<p>Nội dung</p>", content_text="Nội dung",
                   published=T0 + timedelta(minutes=n))


def _topic(n: int) -> str:
    return f"http://feeds.example/s{n}/rss.xml"


def _prepare(store: Store, kind: str) -> None:
    """Rows that a write of ``kind`` changes but never creates (an edit needs its article, a
    ping's outcome its queued ping), made before the race on a fresh database."""
    if kind == "apply_updated":
        store.apply("bao", [Intent("new", _article(n), _article(n).url, CacheInfo(f'"e{n}"'))
                            for n in range(ROUNDS)])
    elif kind == "record_ping":
        store.queue_pings([(HUB, _topic(n)) for n in range(ROUNDS)], T0)


def _write(store: Store, kind: str, n: int) -> None:
    """One write of ``kind`` on key ``n`` (the same key in both racing writers)."""
    url = f"http://bao.example.vn/thoi-su/bai-{n}.html"
    if kind == "record_poll":
        store.record_poll(f"s{n}", ok=False, error="boom", found_links=False,
                          next_due=T0 + timedelta(minutes=30), now=T0)
    elif kind == "record_page_failure":
        store.record_page_failure("bao", url, T0, timedelta(minutes=30))
    elif kind == "put_robots":
        store.put_robots(f"http://host-{n}.example", "User-agent: *\nDisallow:", T0)
    elif kind == "apply_new":
        store.apply("bao", [Intent("new", _article(n), url, CacheInfo(f'"e{n}"'))])
    elif kind == "apply_updated":
        edited = dataclasses.replace(_article(n), title=f"Tiêu đề {n} (sửa)")
        store.apply("bao", [Intent("updated", edited, url, CacheInfo(f'"e{n}-2"'))])
    elif kind == "apply_listing":
        store.apply("bao", [], listings=[(f"http://bao.example.vn/list-{n}/", CacheInfo('"l"'))])
    elif kind == "apply_not_modified":
        store.apply("bao", [], not_modified=[(url, CacheInfo('"e"'))])
    elif kind == "count_poll":
        store.count_poll(f"s{n}", "2020-12-22", ok=False)
    elif kind == "queue_pings":
        store.queue_pings([(HUB, _topic(n))], T0)
    elif kind == "record_ping":
        [ping] = [p for p in store.hub_pings() if p.topic == _topic(n)]  # as a sender read it
        store.record_ping(ping, T0, None, None)
    elif kind == "claim_feed":
        with store.claim_feed(f"s{n}") as claim:
            claim.written("digest", "config")
    elif kind == "record_warnings":
        store.record_warnings(f"s{n}", ["redirected"], T0)
    else:
        raise AssertionError(kind)


def _check(store: Store, kind: str, writers: int) -> None:
    """Every writer's call counted once, no key stored twice."""
    with store.engine.connect() as conn:
        def count(table: sa.Table, *where: Any) -> int:
            return conn.execute(sa.select(sa.func.count()).select_from(table)
                                .where(*where)).scalar_one()

        if kind == "record_poll":
            assert count(sources) == ROUNDS
            failures = conn.execute(sa.select(sources.c.consecutive_failures)).scalars().all()
            assert set(failures) == {writers}, failures  # each failed poll counted
        elif kind == "record_page_failure":
            assert count(pages) == ROUNDS
            assert set(conn.execute(sa.select(pages.c.failures)).scalars()) == {writers}
        elif kind == "put_robots":
            assert count(robots) == ROUNDS
        elif kind == "apply_new":
            assert count(articles) == ROUNDS
            assert count(pages) == ROUNDS
            # The first writer's insert bumps the feed; the second finds the article there.
            version = conn.execute(sa.select(feeds.c.content_version)
                                   .where(feeds.c.id == "bao")).scalar_one()
            assert version == ROUNDS
        elif kind == "apply_updated":
            assert count(articles) == ROUNDS
            assert count(pages) == ROUNDS
            titles = {record["title"] for record in map(
                json.loads, conn.execute(sa.select(articles.c.record)).scalars())}
            assert titles == {f"Tiêu đề {n} (sửa)" for n in range(ROUNDS)}
            # One bump for the prepared articles, then one per writer's edit.
            version = conn.execute(sa.select(feeds.c.content_version)
                                   .where(feeds.c.id == "bao")).scalar_one()
            assert version == 1 + writers * ROUNDS
        elif kind == "count_poll":
            assert count(poll_days) == ROUNDS
            assert set(conn.execute(sa.select(poll_days.c.polls)).scalars()) == {writers}
            assert set(conn.execute(sa.select(poll_days.c.failures)).scalars()) == {writers}
        elif kind == "queue_pings":
            assert count(websub_pings) == ROUNDS
        elif kind == "record_ping":
            assert count(websub_pings) == ROUNDS
            assert set(conn.execute(sa.select(websub_pings.c.state)).scalars()) == {"sent"}
        elif kind == "claim_feed":
            assert count(feeds) == ROUNDS
            assert set(conn.execute(sa.select(feeds.c.built_with)).scalars()) == {"config"}
        elif kind == "record_warnings":
            assert count(poll_warnings) == ROUNDS
        else:
            assert count(pages) == ROUNDS


def _race_in_threads(url: str, kind: str, writers: int = 2) -> None:
    stores = [Store(url) for _ in range(writers)]
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def run(store: Store) -> None:
        try:
            for n in range(ROUNDS):
                barrier.wait(timeout=60)
                _write(store, kind, n)
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert not [e for e in errors if not isinstance(e, threading.BrokenBarrierError)], errors
        _check(stores[0], kind, writers)
    finally:
        for s in stores:
            s.close()


@pytest.mark.parametrize("kind", WRITES)
def test_two_threads_racing_on_every_write(database_url: str, kind: str) -> None:
    clock.freeze(T0)
    with contextlib.closing(Store(database_url)) as store:
        _prepare(store, kind)
    _race_in_threads(database_url, kind)


def _process_writer(url: str, barrier: Any, errors: Any) -> None:
    """Race the other process on each kind of write in turn, on a fresh database each time
    (prepared, then checked, by whichever process passes the barrier first)."""
    clock.freeze(T0)
    try:
        for kind in WRITES:
            if barrier.wait(timeout=120) == 0:
                _drop_everything(url)
                with contextlib.closing(Store(url)) as fresh:
                    _prepare(fresh, kind)
            barrier.wait(timeout=120)
            store = Store(url)
            try:
                for n in range(ROUNDS):
                    barrier.wait(timeout=60)
                    _write(store, kind, n)
                if barrier.wait(timeout=120) == 0:
                    _check(store, kind, 2)
            finally:
                store.close()
    except threading.BrokenBarrierError:
        pass
    except BaseException as exc:
        errors.put(repr(exc))
        barrier.abort()


def _in_processes(target: Callable[..., None], url: str, *args: Any, count: int = 2
                  ) -> list[str]:
    """Run ``target(url, *args, barrier, errors)`` in ``count`` fresh processes at once;
    return the errors they reported."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter, as separate workers
    barrier, errors = ctx.Barrier(count), ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, *args, barrier, errors))
             for _ in range(count)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return found


def test_two_processes_racing_on_every_write(database_url: str) -> None:
    assert _in_processes(_process_writer, database_url) == []


# -- migrations under a lock ------------------------------------------------------------------

def _open_store_repeatedly(url: str, prepare: str, attempts: int, barrier: Any,
                           errors: Any) -> None:
    """Each attempt: the first process to pass the barrier prepares the database (``fresh`` or
    ``v1``), then every process opens it at once. Long-lived processes: one interpreter start
    for all attempts."""
    try:
        for _ in range(attempts):
            if barrier.wait(timeout=120) == 0:
                (_drop_everything if prepare == "fresh" else _make_v1_database)(url)
            barrier.wait(timeout=120)
            Store(url).close()
    except threading.BrokenBarrierError:
        pass
    except BaseException as exc:
        errors.put(repr(exc))
        barrier.abort()


def _drop_everything(url: str) -> None:
    """feeder's tables (as tests/conftest.py resets them; other schemas in the database, such
    as a job queue's, are left alone), and a half-migrated schema 1's."""
    from feeder.store import metadata

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(sa.text("DROP TABLE IF EXISTS pages_v1"))
    engine.dispose()


def test_several_processes_opening_a_fresh_database_migrate_it_once(database_url: str) -> None:
    """Four processes create the schema at once, five times over: no error (today: UNIQUE on
    feeder_meta.key, or "table already exists"), one schema_version row."""
    errors = _in_processes(_open_store_repeatedly, database_url, "fresh", 5, count=4)
    assert errors == []
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all() == [
            ("schema_version", str(SCHEMA_VERSION))]
    engine.dispose()


# -- one article, two sources -------------------------------------------------------------------

def test_an_article_listed_by_two_sources_is_stored_for_both(database_url: str) -> None:
    """Two sections of one paper list one article: each source fetches it and stores it."""
    clock.freeze(T0)
    store = Store(database_url)
    a = _article(1)
    assert store.links_to_fetch("thoi-su", [a.url], T0) == [a.url]
    store.apply("thoi-su", [Intent("new", a, a.url, CacheInfo('"e1"'))])
    # The other section has never fetched it: it must, or its feed would never show it.
    assert store.links_to_fetch("kinh-te", [a.url], T0) == [a.url]
    assert store.cache_for("kinh-te", a.url) == CacheInfo()  # no 304 from the other's ETag
    store.apply("kinh-te", [Intent("new", a, a.url, CacheInfo('"e1"'))])
    assert [x.url for x in store.articles_for("thoi-su", 10)] == [a.url]
    assert [x.url for x in store.articles_for("kinh-te", 10)] == [a.url]
    assert store.links_to_fetch("kinh-te", [a.url], T0) == []
    store.close()


# -- errors -----------------------------------------------------------------------------------

def test_a_programming_error_is_not_wrapped_as_a_store_error(database_url: str) -> None:
    """An IntegrityError is a bug in feeder, not a database failure: it goes up as it is."""
    store = Store(database_url)
    row = {"origin": "http://a.example", "body": None, "fetched_at": T0}
    with pytest.raises(sa.exc.IntegrityError), store._tx(write=True) as conn:
        conn.execute(robots.insert().values(**row))
        conn.execute(robots.insert().values(**row))
    store.close()


def test_a_database_failure_is_a_store_error(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'f.db'}")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE sources")
    with pytest.raises(StoreError, match="no such table"):
        store.record_poll("s", ok=True, error=None, found_links=True, next_due=T0, now=T0)
    store.close()


# -- from the previous release's schema -------------------------------------------------------

def _make_v1_database(url: str) -> None:
    """A database as feeder 0.1.0 left it: one article of two sources, their pages, a source's
    state, a robots.txt."""
    import json

    from tests.support import schema_v1

    _drop_everything(url)
    naive = T0.replace(tzinfo=None)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        schema_v1.metadata.create_all(conn)
        conn.execute(schema_v1.metadata.tables["feeder_meta"].insert().values(
            key="schema_version", value="1"))
        for n, source in ((1, "thoi-su"), (2, "kinh-te")):
            # The second one was published with its lead only (schema 4 gives it a column).
            a = _article(n) if n == 1 else replace(_article(n),
                                                   provenance={"content": "lead-only"})
            conn.execute(schema_v1.articles.insert().values(
                source=source, article_id=a.id, url=a.url, content_hash=a.content_hash,
                sort_time=naive, newest_date=naive, first_seen=naive, last_changed=naive,
                record=json.dumps(a.to_dict(), ensure_ascii=False)))
            conn.execute(schema_v1.metadata.tables["pages"].insert().values(
                url=a.url, source=source, kind="article", etag=f'"e{n}"', first_seen=naive,
                last_fetched=naive, next_check=naive + timedelta(hours=1), checks=0,
                article_id=a.id))
        conn.execute(schema_v1.metadata.tables["sources"].insert().values(
            id="thoi-su", last_poll=naive, last_success=naive, consecutive_failures=0,
            empty_polls=2, next_due=naive))
        conn.execute(schema_v1.metadata.tables["robots"].insert().values(
            origin="http://bao.example.vn", body="User-agent: *", fetched_at=naive))
    engine.dispose()


def test_a_database_of_the_previous_schema_is_migrated(database_url: str) -> None:
    _make_v1_database(database_url)
    clock.freeze(T0)
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(meta_table.c.value)).scalar_one() == str(
                SCHEMA_VERSION)
        # Everything kept, under the new keys.
        assert [a.url for a in store.articles_for("thoi-su", 10)] == [_article(1).url]
        assert store.cache_for("thoi-su", _article(1).url) == CacheInfo('"e1"')
        assert store.cache_for("kinh-te", _article(2).url) == CacheInfo('"e2"')
        assert store.health("thoi-su").empty_polls == 2
        assert (store.health("thoi-su").lead_only, store.health("kinh-te").lead_only) == (0, 1)
        assert store.get_robots("http://bao.example.vn") == ("User-agent: *", T0)
        assert store.links_to_fetch("thoi-su", [_article(1).url], T0) == []
        # The feeds of the previous release may be stale (issue 9): each is rebuilt once.
        assert store.feed_state("thoi-su").behind and store.feed_state("kinh-te").behind
        assert store.feed_state("_site").behind
        # Per source now: the other section's article is new to this one.
        store.apply("kinh-te", [Intent("new", _article(1), _article(1).url)])
        assert len(store.articles_for("kinh-te", 10)) == 2
    finally:
        store.close()


def test_several_processes_migrating_the_previous_schema_at_once(database_url: str) -> None:
    assert _in_processes(_open_store_repeatedly, database_url, "v1", 3, count=3) == []
    store = Store(database_url)
    assert store.cache_for("thoi-su", _article(1).url) == CacheInfo('"e1"')
    store.close()


def test_two_run_once_processes_on_a_fresh_database_never_fail(
        database_url: str, tmp_path: Any) -> None:
    """Issue 9: two ``feeder run --once`` at once on a fresh database failed 3 times in 8."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.support.site import Reply, SiteServer, article_html, listing_html, write_config

    def resolve(path: str) -> Reply | None:
        if path == "/s/":
            return Reply.html(listing_html(f"/s/bai-{n}.html" for n in range(3)))
        if path.startswith("/s/bai-"):
            return Reply.html(article_html(srv.url(path), f"Bài {path[7]} hội nghị tổng kết"))
        return None

    root = Path(__file__).resolve().parent.parent
    with SiteServer(resolve) as srv:
        config = write_config(
            tmp_path / "feeder.toml",
            {"out": str(tmp_path / "out"), "database": database_url, "host_delay": 0.0,
             "respect_robots": False},
            [{"id": sid, "name": sid, "url": srv.url("/s/")} for sid in ("a", "b")])
        for attempt in range(3):
            if "postgresql" in database_url:
                _drop_everything(database_url)
            for suffix in ("", "-wal", "-shm"):
                Path(database_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
            procs = [subprocess.Popen(
                [sys.executable, "-m", "feeder", "--config", str(config), "-q", "run", "--once"],
                cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
            for p in procs:
                out, _ = p.communicate(timeout=120)
                assert p.returncode == 0, f"attempt {attempt}: {out.decode()[-2000:]}"
    store = Store(database_url)
    assert len(store.articles_for("a", 10)) == len(store.articles_for("b", 10)) == 3
    store.close()

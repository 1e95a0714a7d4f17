"""Workers on PostgreSQL (issue 11): dispatch, leases and fencing, shared politeness.

Each test gets a fresh database on the FEEDER_TEST_POSTGRES server and a real loopback site.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from feeder import clock, config, worker
from feeder.config import Settings
from feeder.errors import FetchError
from feeder.fetch import Fetcher
from feeder.jobs import Runtime, poll_source
from feeder.leases import LeaseLost, Leases
from feeder.politeness import SharedHostGate, guard_for
from feeder.store import Store
from tests.support.site import generated_site, write_config
from tests.support.workers import TimedSite, fresh_database, require_postgres

SOURCES = 6


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database(require_postgres()) as url:
        yield url


@pytest.fixture
def site() -> Iterator[TimedSite]:
    holder: dict[str, TimedSite] = {}
    srv = TimedSite(generated_site(SOURCES, 3, lambda i: holder["srv"].url("", i)), ports=2)
    holder["srv"] = srv
    with srv:
        yield srv


def make_config(tmp_path: Path, database: str, site: TimedSite, **settings: object
                ) -> config.Config:
    path = write_config(tmp_path / "feeder.toml", {
        "out": str(tmp_path / "out"), "database": database, "host_delay": 0.05,
        "respect_robots": False, **settings,
    }, [{"id": f"s{i}", "name": f"Source {i}", "url": site.url(f"/s{i}/", i),
         "interval": "10m"} for i in range(SOURCES)])
    return config.load(path)


@pytest.fixture
def rt(tmp_path: Path, database: str, site: TimedSite) -> Iterator[Runtime]:
    runtime = worker.prepare(make_config(tmp_path, database, site), lease_seconds=30)
    yield runtime
    runtime.poller.fetcher.close()
    runtime.store.close()


def queued_polls(rt: Runtime) -> list[tuple[str, str]]:
    with rt.store.engine.begin() as conn:
        return [(r.queueing_lock, r.status) for r in conn.execute(sa.text(
            "SELECT queueing_lock, status FROM procrastinate_jobs "
            "WHERE task_name = 'poll_source' ORDER BY id"))]


# -- dispatch -----------------------------------------------------------------------------------

def test_dispatch_defers_one_poll_per_due_source_once(rt: Runtime) -> None:
    assert worker.dispatch(timestamp=0) == SOURCES
    assert sorted(queued_polls(rt)) == sorted((f"poll:s{i}", "todo") for i in range(SOURCES))
    # A second tick finds every source queued: nothing more is deferred.
    assert worker.dispatch(timestamp=1) == 0
    assert len(queued_polls(rt)) == SOURCES


def test_two_dispatchers_never_hand_out_one_source(rt: Runtime) -> None:
    """The first claim holds its row locks; a concurrent claim skips those rows."""
    ids = [s.id for s in rt.config.sources]
    engine = rt.store.engine
    with engine.connect() as first, engine.connect() as second:
        a = first.begin()
        got_a = rt.leases.claim_due(first, 4, ids, ids, per_host=10)
        b = second.begin()
        got_b = rt.leases.claim_due(second, 10, ids, ids, per_host=10)
        a.commit()
        b.commit()
    assert len(got_a) == 4
    assert sorted(got_a + got_b) == sorted(ids)
    assert not set(got_a) & set(got_b)


def test_a_failed_deferral_leaves_the_claim_undone(rt: Runtime,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("queue down")

    monkeypatch.setattr(worker._job_manager(), "batch_defer_jobs", broken)
    with pytest.raises(RuntimeError):
        worker.dispatch(timestamp=0)
    monkeypatch.undo()
    # The claim rolled back with the deferral: every source is handed out on the next tick.
    assert worker.dispatch(timestamp=1) == SOURCES


def polls_by_host(rt: Runtime) -> dict[str, list[str]]:
    """Waiting poll jobs per job lock, in the order a worker would take them."""
    found: dict[str, list[str]] = {}
    with rt.store.engine.begin() as conn:
        for r in conn.execute(sa.text(
                "SELECT lock, args->>'source_id' AS source FROM procrastinate_jobs "
                "WHERE task_name = 'poll_source' AND status = 'todo' ORDER BY id")):
            found.setdefault(r.lock, []).append(r.source)
    return found


def test_polls_are_locked_on_their_host_and_the_queue_is_shared_between_hosts(
        rt: Runtime, site: TimedSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """Six sources on two hosts, room for two waiting polls per host: two of each host are
    handed out, each job locked on its host, so one poll per host runs at a time."""
    monkeypatch.setattr(worker, "QUEUE_TARGET", 4)
    monkeypatch.setattr(worker, "MIN_PER_HOST", 1)
    assert worker.dispatch(timestamp=0) == 4
    hosts = {f"host:{site.url('', i).rstrip('/')}": {f"s{j}" for j in range(SOURCES)
                                                     if j % 2 == i} for i in range(2)}
    got = polls_by_host(rt)
    assert set(got) == set(hosts)
    for lock, sources in got.items():
        assert len(sources) == 2 and set(sources) <= hosts[lock]
    # A tick with room for more hands out the rest, never over the share of a host.
    monkeypatch.setattr(worker, "QUEUE_TARGET", 6)
    assert worker.dispatch(timestamp=1) == 2
    assert sorted(len(v) for v in polls_by_host(rt).values()) == [3, 3]


def test_the_claim_goes_round_the_hosts(rt: Runtime) -> None:
    """One host with many due sources does not fill the queue ahead of the others."""
    ids = [s.id for s in rt.config.sources]  # s0..s5
    hosts = ["big", "big", "big", "big", "small", "other"]
    with rt.store.engine.begin() as conn:
        got = rt.leases.claim_due(conn, 3, ids, hosts, per_host=10)
    assert sorted(got) == ["s0", "s4", "s5"]
    with rt.store.engine.begin() as conn:
        got = rt.leases.claim_due(conn, 10, ids, hosts, per_host=2)
    # Jobs waiting count against a host's share (see the test above); claims alone do not.
    assert sorted(got) == ["s1", "s2"]
    with pytest.raises(ValueError), rt.store.engine.begin() as conn:
        rt.leases.claim_due(conn, 10, ids, hosts[:2], per_host=10)


def test_host_lock_is_the_origin_of_the_first_url() -> None:
    src = config.Source(id="a", name="A", urls=("HTTPS://Bao.Example:8443/thoi-su/",
                                                 "https://other.example/"))
    assert worker.host_lock(src) == "host:https://bao.example:8443"
    assert worker.per_host_queue(1) == worker.QUEUE_TARGET
    assert worker.per_host_queue(10_000) == worker.MIN_PER_HOST


def test_a_finished_poll_wakes_the_workers_for_the_next_one_of_its_host(rt: Runtime) -> None:
    """procrastinate only wakes idle job slots when a job is deferred; a poll waiting for its
    host's lock must be woken when the host's running poll ends (deleted or failed)."""
    import psycopg

    url = sa.engine.make_url(str(rt.config.settings.database))
    with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                         dbname=url.database, autocommit=True) as conn:
        def insert(lock: str, status: str) -> int:
            row = conn.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, status) "
                "VALUES ('polls', 'poll_source', %s, %s) RETURNING id", (lock, status)).fetchone()
            assert row is not None
            return int(row[0])

        def woken() -> list[int]:
            return [json.loads(n.payload)["job_id"] for n in conn.notifies(timeout=0.5)]

        running, _waiting = insert("host:a", "doing"), insert("host:a", "todo")
        alone = insert("host:b", "doing")
        conn.execute("LISTEN procrastinate_any_queue_v1")
        conn.execute("DELETE FROM procrastinate_jobs WHERE id = %s", (running,))  # succeeded
        assert woken() == [running]
        conn.execute("SELECT procrastinate_finish_job_v1(%s, 'failed', false)", (alone,))
        assert woken() == []  # nothing of host b waits: nobody is woken
        again = insert("host:a", "doing")
        conn.execute("SELECT procrastinate_finish_job_v1(%s, 'failed', false)", (again,))
        assert woken() == [again]


def test_the_reaper_finds_polls_that_hold_no_live_lease(rt: Runtime) -> None:
    """A killed worker's poll holds its host's lock until it is failed: it is found by its
    lease, well before the worker's heartbeat is given up on, whether its lease just expired
    or the dispatcher has since queued the source again."""
    ids = {}
    with rt.store.engine.begin() as conn:
        for sid in ("s0", "s1", "s2", "s3"):
            ids[sid] = conn.execute(sa.text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args) "
                "VALUES ('polls', 'poll_source', :lock, CAST(:args AS jsonb)) RETURNING id"),
                {"lock": f"host:{sid}", "args": json.dumps({"source_id": sid})}).scalar_one()
        # Started (procrastinate records when), long ago but for s3, which just started.
        conn.execute(sa.text("UPDATE procrastinate_jobs SET status = 'doing'"))
        conn.execute(sa.text(
            "UPDATE procrastinate_events SET at = now() - interval '1 hour' "
            "WHERE type = 'started' AND job_id <> :s3"), {"s3": ids["s3"]})
    for sid in ("s0", "s1"):
        assert rt.leases.acquire(sid) is not None
    with rt.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE feeder_leases SET holder = 'queued', "
                             "expires_at = now() + interval '1 minute' "
                             "WHERE source IN ('s2', 's3')"))
    assert rt.leases.expired_poll_jobs() == [ids["s2"]]  # s0, s1 live; s3 about to take it
    with rt.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE feeder_leases SET expires_at = now() - interval '5 s' "
                             "WHERE source = 's0'"))
    assert rt.leases.expired_poll_jobs() == [ids["s0"], ids["s2"]]


def test_a_poll_run_twice_polls_once(rt: Runtime, site: TimedSite) -> None:
    first = poll_source(rt, "s0")
    assert first is not None and first.new == 3
    requests = len(site.arrivals)
    assert poll_source(rt, "s0") is None  # no longer due
    assert len(site.arrivals) == requests
    assert (rt.config.settings.out / "s0" / "rss.xml").exists()


def site_builds(rt: Runtime) -> list[tuple[str, float]]:
    """Site build jobs: status, and seconds from now until each may start."""
    with rt.store.engine.begin() as conn:
        return [(r.status, r.wait) for r in conn.execute(sa.text(
            "SELECT status::text AS status, "
            "EXTRACT(EPOCH FROM scheduled_at - now())::float8 AS wait "
            "FROM procrastinate_jobs WHERE task_name = 'build_site' ORDER BY id"))]


def test_polls_that_change_the_site_share_one_build_after_a_pause(rt: Runtime) -> None:
    worker.poll_source("s0")
    worker.poll_source("s1")  # changed too: folded into the build that waits
    [(status, wait)] = site_builds(rt)
    assert status == "todo"
    assert worker.SITE_PAUSE - 1 < wait <= worker.SITE_PAUSE
    # Slow builds (a site of thousands of sources) wait longer: at most a fifth of the time.
    assert worker.site_pause(0.1) == worker.SITE_PAUSE
    assert worker.site_pause(10.0) == 10.0 * (worker.SITE_SHARE - 1)


def test_status_lists_workers_stopped_or_silent_only_for_a_while(rt: Runtime) -> None:
    from feeder import cluster

    names = ("running", "stopped-now", "stopped-long-ago", "silent-now", "silent-long-ago")
    for name in names:
        Leases(rt.store.engine, holder=name).register(2, None)
    for name in ("stopped-now", "stopped-long-ago"):
        Leases(rt.store.engine, holder=name).heartbeat(polls=3, failures=0, state="stopped")
    with rt.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE feeder_workers SET seen_at = now() - :ago WHERE name = :n"),
                     [{"n": "silent-now", "ago": cluster.ALIVE_WITHIN * 2},
                      *({"n": n, "ago": cluster.LISTED_FOR * 2}
                        for n in ("stopped-long-ago", "silent-long-ago"))])
    status = cluster.read(rt.store.engine)
    assert status is not None
    assert {w.name: w.state for w in status.workers} == {
        "running": "running", "stopped-now": "stopped", "silent-now": "silent"}
    assert status.alive == 1
    text = "\n".join(cluster.render(status))
    assert re.search(r"stopped-now +stopped .* stopped=\d+s ago", text), text


# -- leases and fencing -----------------------------------------------------------------------

def test_a_live_lease_is_refused_an_expired_one_taken_over(rt: Runtime) -> None:
    other = Leases(rt.store.engine, lease_seconds=30, holder="other:1")
    token = rt.leases.acquire("s1")
    assert token is not None
    assert other.acquire("s1") is None  # live
    with rt.store.engine.begin() as conn:  # the holder died: its lease ran out
        conn.execute(sa.text("UPDATE feeder_leases SET expires_at = now() - interval '1 s'"))
    taken = other.acquire("s1")
    assert taken == token + 1  # the takeover bumps the fencing token ...
    assert rt.leases.renew() == ["s1"]  # ... and the old holder learns it lost the lease


def test_a_stale_poll_writes_nothing(rt: Runtime) -> None:
    store = rt.store
    old = rt.leases.acquire("s2")
    assert old is not None
    with rt.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE feeder_leases SET expires_at = now() - interval '1 s'"))
    new = Leases(store.engine, lease_seconds=30, holder="other:2").acquire("s2")
    assert new == old + 1
    due = clock.now()
    with rt.leases.fenced("s2", old), pytest.raises(LeaseLost):
        store.record_poll("s2", ok=True, error=None, found_links=True, next_due=due)
    assert store.health("s2").last_poll is None  # refused, nothing written
    with rt.leases.fenced("s2", new):
        store.record_poll("s2", ok=True, error=None, found_links=True, next_due=due)
    assert store.health("s2").last_poll is not None


def test_a_takeover_waits_for_the_old_polls_write_in_progress(rt: Runtime) -> None:
    """The fence locks the lease row FOR SHARE until the write commits: a takeover that comes
    in between waits, so the old write is entirely before it."""
    old = rt.leases.acquire("s3")
    assert old is not None
    with rt.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE feeder_leases SET expires_at = now() - interval '1 s'"))
    other = Leases(rt.store.engine, lease_seconds=30, holder="other:3")
    took: list[float] = []
    with rt.leases.fenced("s3", old), rt.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE sources SET empty_polls = 0 WHERE id = 's3'"))
        thread = threading.Thread(target=lambda: took.append(
            time.monotonic() if other.acquire("s3") else 0.0))
        thread.start()
        time.sleep(0.5)
        committed = time.monotonic()
    thread.join(10)
    assert took and took[0] >= committed


# -- politeness across workers ---------------------------------------------------------------

def _fetchers(database: str, n: int, settings: Settings) -> list[tuple[Store, Fetcher]]:
    out = []
    for _ in range(n):  # one store, gate and fetcher per "worker", as in separate processes
        store = Store(database)
        out.append((store, Fetcher(settings, robots_cache=store, retries=0,
                                   gate=SharedHostGate(store.engine))))
    return out


def test_workers_together_keep_the_host_delay(database: str, site: TimedSite) -> None:
    from feeder.politeness import create_tables

    settings = Settings(host_delay=0.15, respect_robots=False)
    pairs = _fetchers(database, 3, settings)
    create_tables(pairs[0][0].engine)
    urls = [site.url(f"/s0/tin-{n}-hoi-nghi-tong-ket.html") for n in range(3)]

    def crawl(fetcher: Fetcher) -> None:
        for _ in range(2):
            for url in urls:
                fetcher.get(url, allow_private=True)

    threads = [threading.Thread(target=crawl, args=(f,)) for _, f in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(site.arrivals) == 18
    gap = min(site.min_gap_per_host().values())
    assert gap >= 0.15, f"two requests {gap * 1000:.0f} ms apart"
    for store, fetcher in pairs:
        fetcher.close()
        store.close()


def test_retry_after_holds_every_worker_off(database: str) -> None:
    from feeder.politeness import create_tables
    from tests.support.http import LoopbackServer

    with LoopbackServer() as srv:
        srv.route("/busy", "busy", status=503, headers={"Retry-After": "2"})
        srv.route("/ok", "<html><body>ok</body></html>")
        settings = Settings(host_delay=0.0, respect_robots=False)
        (s1, f1), (s2, f2) = _fetchers(database, 2, settings)
        create_tables(s1.engine)
        f1.max_wait = 1.0  # 2 s is more than this worker waits: it reports retry_after instead
        with pytest.raises(FetchError) as err:
            f1.get(srv.url("/busy"), allow_private=True)
        assert err.value.retry_after == 2
        started = time.monotonic()
        f2.get(srv.url("/ok"), allow_private=True)  # another worker, another path, same host
        assert time.monotonic() - started >= 1.8
        for s, f in ((s1, f1), (s2, f2)):
            f.close()
            s.close()


def test_waiting_for_a_hosts_turn_ends_at_the_polls_deadline(database: str) -> None:
    """Another worker's turn held, or a start time past the deadline: the wait is bounded."""
    from feeder.politeness import create_tables

    (s1, _), (s2, _) = _fetchers(database, 2, Settings(respect_robots=False))
    create_tables(s1.engine)
    mine, theirs = SharedHostGate(s1.engine), SharedHostGate(s2.engine)
    origin = "http://127.0.0.1:9"
    held = theirs.take_turn(origin, 0.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline reached waiting for the turn"):
        mine.take_turn(origin, 0.0, timeout=0.3)
    assert 0.25 <= time.monotonic() - started < 2
    held.done()
    # Free again, but the host's delay puts its next start 5 s away, past a 0.5 s deadline:
    # refused at once instead of sleeping.
    theirs.take_turn(origin, 5.0).done()
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline reached before the turn"):
        mine.take_turn(origin, 5.0, timeout=0.5)
    assert time.monotonic() - started < 0.5
    s1.close()
    s2.close()


def test_robots_txt_is_fetched_once_for_all_workers(database: str) -> None:
    from feeder.politeness import create_tables
    from tests.support.http import LoopbackServer

    with LoopbackServer() as srv:
        srv.route("/robots.txt", "User-agent: *\nCrawl-delay: 0.3\n",
                  headers={"Content-Type": "text/plain"})
        srv.route("/a", "<html><body>a</body></html>")
        settings = Settings(host_delay=0.0, respect_robots=True)
        pairs = _fetchers(database, 3, settings)
        create_tables(pairs[0][0].engine)
        for _, fetcher in pairs:
            fetcher.get(srv.url("/a"), allow_private=True)
        assert len(srv.requests_to("/robots.txt")) == 1
        # Every worker learnt the Crawl-delay from the shared copy.
        assert all(f.host_delay(srv.url("/a")) == 0.3 for _, f in pairs)
        for s, f in pairs:
            f.close()
            s.close()


def test_slot_guard_is_small_and_bounded() -> None:
    assert guard_for(0.0) == 0.05
    assert guard_for(1.0) == pytest.approx(0.1)
    assert guard_for(30.0) == 0.2


# -- a worker's job slots ---------------------------------------------------------------------

def test_a_worker_runs_as_many_polls_at_once_as_its_concurrency(tmp_path: Path) -> None:
    """Ten sources on ten hosts, each answer a second late, one worker of concurrency 10: the
    ten listings are asked for together. (procrastinate runs synchronous jobs in the event
    loop's default executor, six threads on two cores, unless the worker gives it more.)"""
    from tests.support.workers import Worker

    n, late = 10, 1.0
    holder: dict[str, TimedSite] = {}
    srv = TimedSite(generated_site(n, 1, lambda i: holder["srv"].url("", i)), ports=n,
                    delay=late)
    holder["srv"] = srv
    with srv, fresh_database(require_postgres()) as database:
        cfg = write_config(tmp_path / "feeder.toml", {
            "out": str(tmp_path / "out"), "database": database, "host_delay": 0.05,
            "respect_robots": False,
        }, [{"id": f"s{i}", "name": f"S{i}", "url": srv.url(f"/s{i}/", i), "interval": "1h"}
            for i in range(n)])
        proc = Worker(cfg, tmp_path / "worker.log", concurrency=n).start()
        try:
            deadline = time.monotonic() + 60
            while len(srv.arrivals) < 2 * n and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            assert proc.stop() == 0, proc.log.read_text()[-2000:]
    listings = sorted(t for t, _, path in srv.arrivals if path.endswith("/"))
    assert len(listings) == n, srv.arrivals
    # All asked for before the first answer came back: ten polls ran at once.
    assert listings[-1] - listings[0] < late * 0.9, [t - listings[0] for t in listings]

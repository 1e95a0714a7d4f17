"""The distributed driver: feeder jobs on procrastinate (a PostgreSQL job queue), any number of
identical workers sharing one database and one output target.

::

    dispatch   (periodic, every DISPATCH_EVERY s, one run per tick whichever worker takes it)
               claims due sources FOR UPDATE SKIP LOCKED and defers one poll_source job per
               source with queueing_lock "poll:<id>", in the same transaction as the claim;
               the job's lock is its host ("host:<origin>"), so that one poll per host runs
               at a time, and at most a share of the queue waits per host
    poll_source(id)     feeder.jobs.poll_source: lease, fencing token, poll, feed build
    build_site()        deferred after a poll that changed something (queueing_lock "site": one
                        waiting; the store's site lock: one running); also every SITE_EVERY s
    reap       (periodic) fails jobs of workers whose heartbeat stopped (SIGKILL, power loss),
               and poll jobs whose lease expired (their worker stopped renewing it)

Why one poll per host at a time: a host takes one request at a time anyway (politeness, shared
through the database), so a second poll of a busy host would only hold a worker's job slot
while it waits for its turn, and a host with no poll waiting would stand idle. With the host as
the job's lock, procrastinate hands a free slot the first job of a host that is not busy.

The schedule is data (``sources.next_due``), never engine schedule entries. Jobs have no
retries (retry=0): with a queueing lock, procrastinate's retry can leave a job in ``doing`` for
ever (its issues 1446 and 1543); the dispatcher is the retry loop instead: a failed or killed
poll leaves its source due, and the source is handed out again once its lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from procrastinate import App, JobContext, PsycopgConnector, SyncPsycopgConnector
from procrastinate import jobs as pjobs
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.manager import JobManager

from feeder import jobs
from feeder.config import Config, Source

log = logging.getLogger(__name__)

DISPATCH_EVERY = 2  # seconds between dispatch ticks
SITE_EVERY = 60  # seconds between site builds when nothing asked for one
# A site build asked for by a poll waits this long (seconds), and longer when builds are slow
# (a site of thousands of sources): builds take at most one part in SITE_SHARE of the time.
SITE_PAUSE = 5.0
SITE_SHARE = 5
REAP_EVERY = 5  # seconds between two looks for stalled jobs
STALLED_AFTER = 30.0  # a worker silent this long is dead; its running jobs are failed
HEARTBEAT_EVERY = 5.0
# Poll jobs kept waiting in the queue: enough to keep every worker busy between two ticks,
# few enough that a job does not wait longer than a lease before it runs.
QUEUE_TARGET = 400
# Poll jobs of one host that may wait at once: the queue shared out between the hosts with due
# sources, but never so few that a host with quick polls runs dry between two ticks.
MIN_PER_HOST = 8
POLL_QUEUE = "polls"
CONTROL_THREADS = 4  # job threads beyond --concurrency (see _run_jobs)
_SCHEMA_LOCK = 7157340  # advisory lock key: "feeder schema"

app = App(connector=PsycopgConnector(), import_paths=["feeder.worker"])

_runtime: jobs.Runtime | None = None
_deferrer: JobManager | None = None


def runtime() -> jobs.Runtime:
    if _runtime is None:
        raise RuntimeError("feeder.worker: no runtime; start workers with `feeder worker`")
    return _runtime


def conninfo(database_url: str) -> str:
    """The libpq connection string of an SQLAlchemy ``postgresql+psycopg://`` URL."""
    url = sa.engine.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


# -- the jobs ---------------------------------------------------------------------------------

@app.task(name="poll_source", queue=POLL_QUEUE)
def poll_source(source_id: str) -> None:
    rt = runtime()
    result = jobs.poll_source(rt, source_id)
    if result is not None and (result.changed or result.status == "error"):
        defer_site_build()


@app.task(name="build_feed", queue=POLL_QUEUE)
def build_feed(source_id: str) -> None:
    jobs.build_feed(runtime(), source_id)


@app.task(name="build_site", queue="site")
def build_site() -> None:
    jobs.build_site(runtime())


def defer_site_build() -> None:
    """Ask for one site build: at most one waits (queueing lock); the store's site lock lets one
    run at a time. It starts after :func:`site_pause`, so that the changes of many polls share
    one build (a first ingest of thousands of sources would otherwise rebuild the whole site
    after every poll)."""
    start = datetime.now(UTC) + timedelta(seconds=site_pause(jobs.last_site_seconds()))
    job = pjobs.Job(queue="site", lock=None, queueing_lock="site", task_name="build_site",
                    task_kwargs={}, scheduled_at=start)
    with runtime().store.engine.begin() as conn, contextlib.suppress(AlreadyEnqueued):
        # AlreadyEnqueued: one build waits already, and it reads the store when it runs.
        _job_manager().defer_job(job, connection=conn.connection.driver_connection)


@app.periodic(cron=f"* * * * * */{DISPATCH_EVERY}")
@app.task(name="dispatch", queue="control", priority=10)
def dispatch(timestamp: int) -> int:
    """Hand out due sources: claim and defer in one transaction."""
    rt = runtime()
    ids = [s.id for s in rt.config.sources]
    locks = {s.id: host_lock(s) for s in rt.config.sources}
    with rt.store.engine.begin() as conn:
        waiting = conn.execute(sa.text(
            "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = :q AND status = 'todo'"),
            {"q": POLL_QUEUE}).scalar_one()
        claimed = rt.leases.claim_due(conn, QUEUE_TARGET - waiting, ids,
                                      [locks[i] for i in ids],
                                      per_host_queue(len(set(locks.values()))))
        if claimed:
            raw = conn.connection.driver_connection
            _job_manager().batch_defer_jobs(
                [pjobs.Job(queue=POLL_QUEUE, lock=locks[sid], queueing_lock=f"poll:{sid}",
                           task_name="poll_source", task_kwargs={"source_id": sid})
                 for sid in claimed], connection=raw)
    if claimed:
        log.info("dispatch.done claimed=%d waiting=%d", len(claimed), waiting)
    return len(claimed)


@app.periodic(cron=f"* * * * * */{SITE_EVERY}")
@app.task(name="site_tick", queue="control")
def site_tick(timestamp: int) -> None:
    defer_site_build()


@app.periodic(cron=f"* * * * * */{REAP_EVERY}")
@app.task(name="reap", queue="control", pass_context=True)
async def reap(context: JobContext, timestamp: int) -> int:
    """Fail the jobs of workers that stopped sending heartbeats (killed, frozen, cut off)."""
    manager = context.app.job_manager
    await manager.prune_stalled_workers(STALLED_AFTER)
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER))
    # Sooner than the heartbeat: a poll whose lease expired lost its worker (the keeper renews
    # every lease a third of the way through), and until it is failed its host's lock keeps
    # every other poll of the host waiting. Its writes are fenced off should it ever wake up.
    known = {job.id for job in stalled}
    for job_id in await asyncio.to_thread(runtime().leases.expired_poll_jobs):
        if job_id not in known:
            stalled.extend(await manager.list_jobs_async(id=job_id))
    for job in stalled:
        assert job.id is not None
        log.warning("reap.stalled job=%d task=%s args=%s", job.id, job.task_name,
                    job.task_kwargs)
        await manager.finish_job_by_id_async(job.id, status=pjobs.Status.FAILED,
                                             delete_job=False)
    return len(stalled)


def host_lock(source: Source) -> str:
    """The job lock of a source's polls: the origin of its first URL, where its listing is (its
    articles are most often on the same host). Pure."""
    parts = urlsplit(source.urls[0])
    return f"host:{parts.scheme}://{parts.netloc}".lower()


def per_host_queue(hosts: int) -> int:
    """How many poll jobs of one host may wait at once. Pure."""
    return max(MIN_PER_HOST, -(-QUEUE_TARGET // max(hosts, 1)))


def site_pause(last_build: float) -> float:
    """Seconds between asking for a site build and its start: at least SITE_PAUSE, and long
    enough that site builds take at most 1 / SITE_SHARE of the time. Pure."""
    return max(SITE_PAUSE, last_build * (SITE_SHARE - 1))


def _job_manager() -> JobManager:
    """A synchronous job manager for deferring from job threads (and on a given connection)."""
    if _deferrer is None:
        raise RuntimeError("feeder.worker: not started")
    return _deferrer


# -- starting a worker ------------------------------------------------------------------------

def prepare(config: Config, *, lease_seconds: float = 60.0, concurrency: int = 8,
            stop: threading.Event | None = None) -> jobs.Runtime:
    """Open the store, create the coordination tables and procrastinate's schema (once, under
    a lock), and set this process's runtime. Returns it."""
    global _runtime, _deferrer
    from feeder.fetch import Fetcher
    from feeder.leases import Leases
    from feeder.pipeline import Poller
    from feeder.politeness import SharedHostGate
    from feeder.store import Store

    database = str(config.settings.database)
    if not database.startswith("postgresql"):
        from feeder.errors import ConfigError

        raise ConfigError("`feeder worker` needs a PostgreSQL database "
                          f"(database = \"postgresql+psycopg://...\"), not {database!r}",
                          file=str(config.path))
    stop = stop or threading.Event()
    info = conninfo(database)
    with _schema_lock(database):  # workers starting together: one creates, the others wait
        store = Store(database)
        _create_tables(store.engine)

    def sleep(seconds: float) -> None:  # politeness and backoff waits end early on a stop
        stop.wait(seconds)

    # Each request in flight holds a session (its host's turn): a pool of its own, one per job.
    gate_engine = sa.create_engine(database, pool_pre_ping=True, pool_size=concurrency,
                                   max_overflow=2)
    gate = SharedHostGate(gate_engine, sleep=sleep)
    fetcher = Fetcher(config.settings, sleep=sleep, robots_cache=store, gate=gate)
    leases = Leases(store.engine, lease_seconds=lease_seconds)
    leases.ensure([s.id for s in config.sources])
    poller = Poller(config, store, fetcher, stop=stop)
    _deferrer = JobManager(SyncPsycopgConnector(conninfo=info))
    _runtime = jobs.Runtime(config, store, poller, leases)
    return _runtime


@contextlib.contextmanager
def _schema_lock(database: str) -> Iterator[None]:
    """A session lock on the database for creating tables (PostgreSQL advisory lock)."""
    engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _SCHEMA_LOCK})
                conn.commit()
    finally:
        engine.dispose()


def _create_tables(engine: sa.Engine) -> None:
    """The coordination tables and procrastinate's (under :func:`_schema_lock`)."""
    from feeder.politeness import create_tables

    create_tables(engine)
    with engine.begin() as conn:
        if conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            log.info("worker.schema creating procrastinate tables")
            # Straight to psycopg: the schema's '%' signs are not parameters.
            conn.connection.driver_connection.execute(_schema_sql())  # type: ignore[union-attr]
        conn.connection.driver_connection.execute(_LOCK_FREED_SQL)  # type: ignore[union-attr]


# procrastinate wakes a worker's idle job slots when a job is deferred (NOTIFY), or every few
# seconds. A poll job waiting for its host's lock becomes runnable when another job finishes,
# which sends nothing: without this trigger the host would stand idle until the next dispatch.
# The notification goes out when the finishing transaction commits, so the lock is free by then.
_LOCK_FREED_SQL = """
CREATE OR REPLACE FUNCTION feeder_notify_lock_freed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload TEXT;
BEGIN
    IF EXISTS (SELECT 1 FROM procrastinate_jobs
                WHERE lock = OLD.lock AND status = 'todo' AND queue_name = OLD.queue_name) THEN
        payload := json_build_object('type', 'job_inserted', 'job_id', OLD.id)::text;
        PERFORM pg_notify('procrastinate_queue_v1#' || OLD.queue_name, payload);
        PERFORM pg_notify('procrastinate_any_queue_v1', payload);
    END IF;
    RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER feeder_notify_lock_freed
    AFTER UPDATE OF status ON procrastinate_jobs
    FOR EACH ROW WHEN (OLD.status = 'doing' AND NEW.status <> 'doing' AND OLD.lock IS NOT NULL)
    EXECUTE FUNCTION feeder_notify_lock_freed();
-- Succeeded jobs are deleted (the worker's delete_jobs), not updated.
CREATE OR REPLACE TRIGGER feeder_notify_lock_freed_on_delete
    AFTER DELETE ON procrastinate_jobs
    FOR EACH ROW WHEN (OLD.status = 'doing' AND OLD.lock IS NOT NULL)
    EXECUTE FUNCTION feeder_notify_lock_freed();
"""


def _schema_sql() -> str:
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()


def _worker_metrics(rt: jobs.Runtime) -> None:
    """This worker's own gauges, next to the per-source ones (one scrape target per worker)."""
    from prometheus_client import Gauge

    registry = rt.poller.metrics.registry
    info = Gauge("feeder_worker_info", "This worker (value 1).", ["name"], registry=registry)
    info.labels(rt.leases.holder).set(1)
    Gauge("feeder_worker_leases", "Source leases this worker holds now.",
          registry=registry).set_function(lambda: len(rt.leases.held()))
    Gauge("feeder_worker_polls", "Polls this worker finished since it started.",
          registry=registry).set_function(lambda: rt.counters.polls)
    Gauge("feeder_worker_poll_failures", "Polls of this worker that failed.",
          registry=registry).set_function(lambda: rt.counters.failures)


async def _run_jobs(concurrency: int, name: str, stalled_after: float,
                    lease_seconds: float) -> None:
    """procrastinate's worker loop, with a thread for each job slot. Synchronous jobs (polls,
    builds) run in the event loop's default executor, which has cpu_count + 4 threads: on two
    cores, six jobs at once whatever ``--concurrency`` says. The extra threads are for the
    control jobs (dispatch, site build) and the reaper's query."""
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=concurrency + CONTROL_THREADS,
                                  thread_name_prefix="feeder-job")
    loop.set_default_executor(executor)
    async with app.open_async():
        await app.run_worker_async(concurrency=concurrency, name=name,
                                   delete_jobs="successful", install_signal_handlers=True,
                                   update_heartbeat_interval=HEARTBEAT_EVERY,
                                   stalled_worker_timeout=stalled_after,
                                   shutdown_graceful_timeout=lease_seconds)


def run(config: Config, *, concurrency: int, metrics_port: int | None = None,
        lease_seconds: float = 60.0, stalled_after: float = STALLED_AFTER) -> int:
    """Run one worker until SIGINT / SIGTERM (which drains: no new job, running ones finish)."""
    from feeder.leases import Keeper

    stop = threading.Event()
    rt = prepare(config, lease_seconds=lease_seconds, concurrency=concurrency, stop=stop)
    rt.leases.register(concurrency, metrics_port)
    if metrics_port:
        _worker_metrics(rt)
        rt.poller.metrics.serve(metrics_port)
    keeper = Keeper(rt.leases, rt.counters)
    keeper.start()
    log.info("worker.start name=%s concurrency=%d sources=%d", rt.leases.holder, concurrency,
             len(config.sources))

    info = conninfo(str(config.settings.database))
    try:
        with app.replace_connector(PsycopgConnector(conninfo=info)):
            asyncio.run(_run_jobs(concurrency, rt.leases.holder, stalled_after, lease_seconds))
    finally:
        stop.set()
        keeper.stop()
        rt.counters.state = "stopped"
        rt.leases.heartbeat(polls=rt.counters.polls, failures=rt.counters.failures,
                            state="stopped")
        rt.poller.fetcher.close()
        rt.store.close()
        log.info("worker.stopped name=%s polls=%d", rt.leases.holder, rt.counters.polls)
    return 0

"""Leases on sources, with fencing tokens, and the registry of running workers (PostgreSQL).

A poll (or a feed build) of a source runs only while it holds the source's lease::

    dispatch   claim due, free sources (FOR UPDATE SKIP LOCKED): holder 'queued', expires soon
    acquire    token + 1, holder = this worker, expires = now + lease    -> the poll's token
    keeper     every lease/3, one UPDATE renews every lease this process holds
    fence      each write transaction of the poll first locks its lease row FOR SHARE and
               checks the token: a poll whose lease was taken over writes nothing (LeaseLost)
    release    holder and expiry cleared (only with the current token)

A worker that dies (SIGKILL, power loss) stops renewing; its leases expire and the dispatcher
hands the sources out again. Taking over bumps the token, and the takeover's UPDATE waits for
any FOR SHARE lock of the old poll, so the old poll's writes are either committed before the
takeover or refused after it.

The fence needs no change to the store: it is a SQLAlchemy ``before_cursor_execute`` hook on
the store's engine that acts only on threads (contexts) inside :meth:`Leases.fenced`.
"""

from __future__ import annotations

import contextvars
import logging
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from feeder.errors import FeederError
from feeder.politeness import coordination

log = logging.getLogger(__name__)

QUEUED = "queued"

leases = sa.Table(
    "feeder_leases", coordination,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("token", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("holder", sa.String(255)),  # a worker name, 'queued', or None (free)
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("started_at", sa.DateTime(timezone=True)),
)

workers = sa.Table(
    "feeder_workers", coordination,
    sa.Column("name", sa.String(255), primary_key=True),  # host:pid
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("concurrency", sa.Integer, nullable=False),
    sa.Column("metrics_port", sa.Integer),
    sa.Column("state", sa.String(16), nullable=False),  # running | draining | stopped
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("polls", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("failures", sa.BigInteger, nullable=False, server_default="0"),
)


class LeaseLost(FeederError):
    """A poll's lease was taken over (it ran past its expiry): its writes are refused."""

    def __init__(self, source: str, token: int) -> None:
        super().__init__(f"source {source}: lease {token} was taken over; write refused")
        self.source = source
        self.token = token


@dataclass(frozen=True, slots=True)
class Fence:
    source: str
    token: int


_current: contextvars.ContextVar[Fence | None] = contextvars.ContextVar("feeder_fence",
                                                                        default=None)
_FENCE_SQL = ("SELECT 1 FROM feeder_leases WHERE source = %(source)s AND token = %(token)s "
              "FOR SHARE")
# Statements that are not the poll's own data: the politeness slots are shared by all polls.
_UNFENCED = ("feeder_host_slots", "feeder_leases", "feeder_workers", "procrastinate_")
_FENCED_KEY = "feeder_fence_checked"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Leases:
    """Source leases on ``engine`` (PostgreSQL), held for ``lease_seconds`` between renewals."""

    def __init__(self, engine: Engine, *, lease_seconds: float = 60.0,
                 holder: str | None = None) -> None:
        self.engine = engine
        self.lease_seconds = lease_seconds
        self.holder = holder or worker_name()
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()
        install_fence(engine)

    # -- sources known to the dispatcher --------------------------------------------------

    def ensure(self, sources: Sequence[str]) -> None:
        """A lease row per configured source (new sources join the schedule at once)."""
        if not sources:
            return
        stmt = sa.text("INSERT INTO feeder_leases (source) SELECT unnest(CAST(:ids AS text[])) "
                       "ON CONFLICT (source) DO NOTHING")
        with self.engine.begin() as conn:
            conn.execute(stmt, {"ids": list(sources)})

    def claim_due(self, conn: Connection, limit: int, sources: Sequence[str],
                  hosts: Sequence[str], per_host: int) -> list[str]:
        """In the caller's transaction: lock up to ``limit`` due sources that no poll holds and
        that have no poll job waiting, and mark them queued until ``lease_seconds`` from now.

        Due means ``sources.next_due`` (the store's schedule) is past or unset. Rows locked by
        another dispatcher are skipped, so two dispatchers never hand out one source.

        ``hosts`` (one per source: the job lock of its polls, see feeder.worker) shares the
        queue out between hosts: at most ``per_host`` poll jobs of a host wait at once, counting
        those already waiting, and the claim goes round the hosts (each one's most overdue
        source first, then each one's second...). Without it, a host with many due sources
        would fill the queue while the others' polls wait behind it.
        """
        if limit <= 0 or not sources:
            return []
        if len(hosts) != len(sources):
            raise ValueError("claim_due: one host per source")
        rows = conn.execute(sa.text("""
            WITH waiting AS (
                SELECT lock, count(*) AS jobs FROM procrastinate_jobs
                 WHERE status = 'todo' AND lock IS NOT NULL AND task_name = 'poll_source'
                 GROUP BY lock),
            due AS (
                SELECT c.source, s.next_due,
                       row_number() OVER (PARTITION BY c.host
                                          ORDER BY s.next_due NULLS FIRST, c.source)
                         + coalesce(w.jobs, 0) AS place
                  FROM unnest(CAST(:ids AS text[]), CAST(:hosts AS text[])) AS c(source, host)
                  JOIN feeder_leases l ON l.source = c.source
                  LEFT JOIN sources s ON s.id = c.source
                  LEFT JOIN waiting w ON w.lock = c.host
                 WHERE (s.next_due IS NULL OR s.next_due <= timezone('UTC', now()))
                   AND (l.expires_at IS NULL OR l.expires_at < now())
                   AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j
                                    WHERE j.queueing_lock = 'poll:' || c.source
                                      AND j.status = 'todo'))
            SELECT l.source FROM feeder_leases l JOIN due d ON d.source = l.source
             WHERE d.place <= :per_host
               -- Again on the row as locked: another dispatcher may have claimed it since.
               AND (l.expires_at IS NULL OR l.expires_at < now())
             ORDER BY d.place, d.next_due NULLS FIRST
             LIMIT :limit
               FOR UPDATE OF l SKIP LOCKED"""),
            {"ids": list(sources), "hosts": list(hosts), "limit": limit,
             "per_host": per_host}).all()
        claimed = [r.source for r in rows]
        if claimed:
            conn.execute(sa.text(
                "UPDATE feeder_leases SET holder = :queued, "
                "expires_at = now() + make_interval(secs => :secs) "
                "WHERE source = ANY(CAST(:ids AS text[]))"),
                {"queued": QUEUED, "secs": self.lease_seconds, "ids": claimed})
        return claimed

    def expired_poll_jobs(self) -> list[int]:
        """Poll jobs still running (procrastinate's ``doing``) that have run for longer than a
        lease and hold no live lease: their worker is gone (killed, frozen, cut off from the
        database). A live poll takes its source's lease as it starts and renews it until it
        ends. A dead one's lease expires, or, once expired, is claimed again by the dispatcher
        ('queued'), whose new job then waits behind the dead one's host lock."""
        with self.engine.begin() as conn:
            return [r.id for r in conn.execute(sa.text("""
                SELECT j.id FROM procrastinate_jobs j
                  JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'started'
                  LEFT JOIN feeder_leases l ON l.source = j.args->>'source_id'
                 WHERE j.status = 'doing' AND j.task_name = 'poll_source'
                   AND e.at < now() - make_interval(secs => :secs)
                   AND (l.holder IS NULL OR l.holder = :queued
                        OR l.expires_at < now() - interval '1 second')
                 ORDER BY j.id"""), {"queued": QUEUED, "secs": self.lease_seconds})]

    # -- one poll's lease -------------------------------------------------------------------

    def acquire(self, source: str) -> int | None:
        """Take ``source``'s lease when it is free, queued for a poll, or expired: its new
        fencing token; ``None`` when a live poll holds it."""
        with self.engine.begin() as conn:
            token = conn.execute(sa.text("""
                INSERT INTO feeder_leases (source, token, holder, expires_at, started_at)
                VALUES (:source, 1, :holder, now() + make_interval(secs => :secs), now())
                ON CONFLICT (source) DO UPDATE
                   SET token = feeder_leases.token + 1, holder = EXCLUDED.holder,
                       expires_at = EXCLUDED.expires_at, started_at = EXCLUDED.started_at
                 WHERE feeder_leases.holder IS NULL OR feeder_leases.holder = :queued
                    OR feeder_leases.expires_at < now()
                RETURNING token"""), {"source": source, "holder": self.holder,
                                      "secs": self.lease_seconds, "queued": QUEUED}
            ).scalar_one_or_none()
        if token is not None:
            with self._lock:
                self._held[source] = token
        return token

    def release(self, source: str, token: int) -> None:
        with self._lock:
            if self._held.get(source) == token:
                del self._held[source]
        with self.engine.begin() as conn:
            conn.execute(leases.update().where(leases.c.source == source,
                                               leases.c.token == token)
                         .values(holder=None, expires_at=None))

    @contextmanager
    def fenced(self, source: str, token: int) -> Iterator[None]:
        """Every write transaction on this engine inside the block checks the token first."""
        reset = _current.set(Fence(source, token))
        try:
            yield
        finally:
            _current.reset(reset)

    def renew(self) -> list[str]:
        """Extend every lease this process holds; returns the sources whose lease was lost."""
        with self._lock:
            held = dict(self._held)
        if not held:
            return []
        with self.engine.begin() as conn:
            kept = {r.source for r in conn.execute(sa.text("""
                UPDATE feeder_leases SET expires_at = now() + make_interval(secs => :secs)
                 WHERE (source, token) IN (SELECT * FROM unnest(CAST(:s AS text[]),
                                                                CAST(:t AS bigint[])))
                RETURNING source"""), {"secs": self.lease_seconds, "s": list(held),
                                       "t": list(held.values())})}
        lost = [s for s in held if s not in kept]
        for source in lost:
            log.warning("lease.lost source=%s token=%d", source, held[source])
        return lost

    def held(self) -> dict[str, int]:
        with self._lock:
            return dict(self._held)

    # -- the worker registry ----------------------------------------------------------------

    def register(self, concurrency: int, metrics_port: int | None) -> None:
        host = socket.gethostname()
        values = {"name": self.holder, "host": host, "pid": os.getpid(),
                  "concurrency": concurrency, "metrics_port": metrics_port, "state": "running"}
        with self.engine.begin() as conn:
            conn.execute(sa.text("""
                INSERT INTO feeder_workers (name, host, pid, concurrency, metrics_port, state,
                                            started_at, seen_at)
                VALUES (:name, :host, :pid, :concurrency, :metrics_port, :state, now(), now())
                ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state,
                    concurrency = EXCLUDED.concurrency, metrics_port = EXCLUDED.metrics_port,
                    started_at = now(), seen_at = now(), polls = 0, failures = 0"""), values)

    def heartbeat(self, *, polls: int, failures: int, state: str = "running") -> None:
        with self.engine.begin() as conn:
            conn.execute(workers.update().where(workers.c.name == self.holder).values(
                seen_at=sa.func.now(), polls=polls, failures=failures, state=state))


class Keeper:
    """A thread that renews this process's leases and its registry row every ``lease / 3``."""

    def __init__(self, leases: Leases, counters: Any) -> None:
        self.leases = leases
        self.counters = counters  # .polls, .failures, .state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.leases.lease_seconds / 3):
            try:
                self.leases.renew()
                self.leases.heartbeat(polls=self.counters.polls, failures=self.counters.failures,
                                      state=self.counters.state)
            except sa.exc.SQLAlchemyError as exc:  # the database is away: try again next round
                log.warning("lease.renew_failed error=%s", exc)


# -- the fence ----------------------------------------------------------------------------------

_installed: set[int] = set()


def install_fence(engine: Engine) -> None:
    """Hook ``engine`` so that writes inside :meth:`Leases.fenced` check the fencing token."""
    if id(engine) in _installed:
        return
    _installed.add(id(engine))

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        fence = _current.get()
        if fence is None or conn.info.get(_FENCED_KEY):
            return
        head = statement.lstrip()[:6].upper()
        if head not in ("INSERT", "UPDATE", "DELETE") or any(t in statement for t in _UNFENCED):
            return
        with conn.connection.dbapi_connection.cursor() as check:  # type: ignore[union-attr]
            check.execute(_FENCE_SQL, {"source": fence.source, "token": fence.token})
            if check.fetchone() is None:
                raise LeaseLost(fence.source, fence.token)
        conn.info[_FENCED_KEY] = True  # once per transaction: the row lock lasts until its end

    @sa.event.listens_for(engine, "commit")
    def _committed(conn: Connection) -> None:
        conn.info.pop(_FENCED_KEY, None)

    @sa.event.listens_for(engine, "rollback")
    def _rolled_back(conn: Connection) -> None:
        conn.info.pop(_FENCED_KEY, None)


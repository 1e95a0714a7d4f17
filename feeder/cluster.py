"""What the workers are doing, read from the database (``feeder status`` on PostgreSQL).

Workers (running, draining, silent; stopped or silent ones only for LISTED_FOR), leases held,
the job queue's depth, and jobs that failed or are stalled (still ``doing`` although their
worker stopped sending heartbeats).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

# A worker is listed as alive when its registry row was touched this recently.
ALIVE_WITHIN = timedelta(seconds=60)
# Workers that stopped (or went silent: killed, cut off) are listed this long after they were
# last seen, then left out: a few lease timeouts, enough to see a drain or a crash happen.
LISTED_FOR = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    name: str
    state: str  # running | stopped | silent (no heartbeat within ALIVE_WITHIN)
    concurrency: int
    polls: int
    failures: int
    leases: int
    metrics_port: int | None
    seen_ago: timedelta


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    source: str
    holder: str
    token: int
    expires_in: timedelta | None


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: int
    task: str
    args: str
    status: str
    since: datetime | None


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    workers: tuple[WorkerInfo, ...]
    leases: tuple[LeaseInfo, ...]
    queued: dict[str, int]  # queue -> jobs waiting
    running: int
    stalled: tuple[JobInfo, ...]
    failed: tuple[JobInfo, ...]  # in the last day

    @property
    def alive(self) -> int:
        return sum(w.state == "running" for w in self.workers)


def read(engine: Engine, *, stalled_after: float = 30.0, recent_failures: int = 20
         ) -> ClusterStatus | None:
    """The cluster's state, or ``None`` when no worker ever ran on this database."""
    with engine.begin() as conn:
        if conn.execute(sa.text("SELECT to_regclass('feeder_workers')")).scalar() is None or \
                conn.execute(sa.text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            return None
        leases = [LeaseInfo(r.source, r.holder, r.token, r.expires_in) for r in conn.execute(
            sa.text("SELECT source, holder, token, expires_at - now() AS expires_in "
                    "FROM feeder_leases WHERE holder IS NOT NULL ORDER BY source"))]
        per_holder: dict[str, int] = {}
        for lease in leases:
            per_holder[lease.holder] = per_holder.get(lease.holder, 0) + 1
        workers = []
        for r in conn.execute(sa.text(
                "SELECT name, state, concurrency, polls, failures, metrics_port, "
                "now() - seen_at AS ago FROM feeder_workers "
                "WHERE seen_at > now() - make_interval(secs => :listed) ORDER BY name"),
                {"listed": LISTED_FOR.total_seconds()}):
            state = "silent" if r.state == "running" and r.ago > ALIVE_WITHIN else r.state
            workers.append(WorkerInfo(r.name, state, r.concurrency, r.polls, r.failures,
                                      per_holder.get(r.name, 0), r.metrics_port, r.ago))
        queued = {r.queue_name: r.n for r in conn.execute(sa.text(
            "SELECT queue_name, count(*) AS n FROM procrastinate_jobs WHERE status = 'todo' "
            "GROUP BY queue_name ORDER BY queue_name"))}
        running = conn.execute(sa.text(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")).scalar_one()
        stalled = tuple(_jobs(conn, """
            SELECT j.id, j.task_name, j.args::text AS args, j.status::text AS status,
                   (SELECT max(at) FROM procrastinate_events e WHERE e.job_id = j.id) AS since
              FROM procrastinate_jobs j
              LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
             WHERE j.status = 'doing'
               AND (w.id IS NULL OR w.last_heartbeat < now() - make_interval(secs => :secs))
             ORDER BY j.id""", {"secs": stalled_after}))
        failed = tuple(_jobs(conn, """
            SELECT j.id, j.task_name, j.args::text AS args, j.status::text AS status,
                   (SELECT max(at) FROM procrastinate_events e WHERE e.job_id = j.id) AS since
              FROM procrastinate_jobs j
             WHERE j.status = 'failed'
             ORDER BY j.id DESC LIMIT :n""", {"n": recent_failures}))
    return ClusterStatus(tuple(workers), tuple(leases), queued, running, stalled, failed)


def _jobs(conn: sa.Connection, query: str, params: dict[str, object]) -> list[JobInfo]:
    return [JobInfo(r.id, r.task_name, r.args, r.status, r.since)
            for r in conn.execute(sa.text(query), params)]


def render(status: ClusterStatus) -> list[str]:
    """Text lines for ``feeder status``."""
    lines = [f"workers: {status.alive} running"]
    lines += [f"  {w.name:28} {w.state:8} concurrency={w.concurrency} leases={w.leases} "
              f"polls={w.polls} failed={w.failures} "
              f"{'stopped' if w.state == 'stopped' else 'seen'}="
              f"{w.seen_ago.total_seconds():.0f}s ago"
              + (f" metrics=:{w.metrics_port}" if w.metrics_port else "")
              for w in status.workers]
    queue = ", ".join(f"{q}={n}" for q, n in status.queued.items()) or "empty"
    lines.append(f"queue: {queue}; running {status.running}; leases {len(status.leases)}")
    lines += [f"  lease {lease.source} holder={lease.holder} token={lease.token}"
              for lease in status.leases[:20]]
    if status.stalled:
        lines.append(f"stalled jobs: {len(status.stalled)} (failed by the next reap)")
        lines += [f"  job {j.id} {j.task} {j.args}" for j in status.stalled[:20]]
    if status.failed:
        lines.append(f"failed jobs (latest {len(status.failed)}):")
        lines += [f"  job {j.id} {j.task} {j.args} at "
                  f"{j.since.astimezone().strftime('%Y-%m-%d %H:%M:%S') if j.since else '-'}"
                  for j in status.failed[:10]]
    return lines

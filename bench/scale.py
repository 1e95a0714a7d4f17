"""Scaling out: 1, 2 and 4 `feeder worker` processes on one PostgreSQL database (issue 11).

A generated site (``--sources`` sources of ``--articles`` article each, on ``--hosts`` loopback
ports, every answer ``--delay`` s late) is served from its own process. For each worker count a
fresh database is made, the workers are started, and every source is polled once (listing plus
its articles: a first ingest), then once more (an idle round: every source due again, every
listing answers 304, the steady state of a real deployment). Printed per worker count:

* polls/s of each round (first ingest: sources over the time between the first and the last
  poll to finish) and the speed-up against one worker, measured in the same run; the requests
  per second this makes, against the per-host cap;
* CPU per poll of the workers, of the run database's PostgreSQL backends and of the site server
  (from /proc), and how many polls per second would fill every core at that cost;
* database transactions per idle poll (procrastinate's and the connection pool's pings
  included);
* the smallest gap between two requests to one host seen by the server, across all workers;
* peak database connections (pg_stat_activity on the run's database) and each worker's peak RSS.

Then the idle cost in detail: one idle poll run in-process with every SQL statement counted
(plus one fence check per write transaction, sent on the raw connection and not counted).

What limits the speed-up. Each worker runs ``--concurrency`` jobs at once (default 1): one
worker then waits on the network most of the time (two answers of 50 ms per first-ingest poll)
and more workers overlap those waits. The machine's cores are the ceiling: N workers reach
N times one worker's rate only while the CPU per poll (all three columns) times the polls per
second stays below the cores; the printed "polls/s would fill every core" is that ceiling. A
higher concurrency makes one worker faster and the ceiling nearer, so the speed-up shrinks;
the total throughput does not grow past the ceiling either way. Site builds (index, combined
feed, status over every source) are shared by many polls (feeder.worker.site_pause).

Run it twice: with a host_delay that is not the bottleneck (default 0.01 s) and with one that is
(each host takes one request at a time, host_delay after the previous answer, so the cap is
hosts / (host_delay + answer time) requests per second whatever the number of workers). A
first-ingest poll's article is on its listing's host, so it waits host_delay after the listing:
with one job at a time per worker, polls then take host_delay each and stay far below the cap.
The capped run needs a job slot for every host (one poll per host runs at a time: the host is
the poll job's lock): ``--host-delay 1.5 --concurrency 16 --workers 4`` is 64 slots for 50
hosts, cap 32 requests/s. The gap percentiles show how close each host is to its cap: a median
near host_delay + answer time means every host is kept busy. Sizes scale down for a quick look::

    nice .venv/bin/python bench/scale.py --postgres postgresql+psycopg://postgres@127.0.0.1:54329/x
    nice .venv/bin/python bench/scale.py --host-delay 1.5 --concurrency 16 --workers 4
    nice .venv/bin/python bench/scale.py --sources 500 --hosts 10 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.site import write_config  # noqa: E402
from tests.support.workers import Worker, fresh_database  # noqa: E402


def get_json(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
        return json.load(resp)


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


class CpuMeter:
    """CPU seconds used by the workers, the site server and the run database's PostgreSQL
    backends (each backend's last sample: a backend that exits keeps what it had used)."""

    def __init__(self, dbname: str, workers: list[int], server: int) -> None:
        self.dbname, self.workers, self.server = dbname, workers, server
        self.backends: dict[int, float] = {}
        self.last: dict[str, float] = {"workers": 0.0, "server": 0.0, "postgres": 0.0}

    def sample(self) -> dict[str, float]:
        tag = f" {self.dbname} ".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and tag in title:
                used = cpu_seconds(int(entry.name))
                if used is not None:
                    self.backends[int(entry.name)] = used
        now = {"workers": sum(cpu_seconds(p) or 0.0 for p in self.workers),
               "server": cpu_seconds(self.server) or 0.0,
               "postgres": sum(self.backends.values())}
        # A worker that exited is not sampled again: keep the totals monotonic.
        self.last = {k: max(v, self.last[k]) for k, v in now.items()}
        return dict(self.last)


def per_poll_ms(before: dict[str, float], after: dict[str, float], polls: int
                ) -> dict[str, float]:
    return {k: (after[k] - before[k]) * 1000 / max(polls, 1) for k in after}


def scalar(engine: sa.Engine, query: str, **params: object) -> object:
    try:
        with engine.begin() as conn:
            return conn.execute(sa.text(query), params).scalar()
    except sa.exc.ProgrammingError:  # tables not created yet
        return None


@dataclass(frozen=True)
class Round:
    """Every source polled once by the run's workers."""

    polls_s: float
    cpu_ms: dict[str, float]  # CPU per poll: workers, postgres, server
    transactions_per_poll: float | None = None


@dataclass(frozen=True)
class Phase:
    """One worker count: a first ingest, then an idle round on the same workers."""

    workers: int
    first: Round
    idle: Round
    requests: int
    min_gap: float
    median_gap: float
    p90_gap: float
    conns: int
    rss_mb: list[float]


def run_phase(args: argparse.Namespace, ports: list[int], workers: int,
              tmp: Path) -> Phase:
    with fresh_database(args.postgres, prefix="feeder_scale") as database:
        cfg = write_config(tmp / f"w{workers}.toml", {
            "out": str(tmp / f"out{workers}"), "database": database,
            "host_delay": args.host_delay, "respect_robots": False,
        }, [{"id": f"s{i}", "name": f"S{i}", "url": f"http://127.0.0.1:{ports[i % args.hosts]}"
             f"/s{i}/", "interval": "6h"} for i in range(args.sources)])
        get_json(ports[0], "/__reset")
        engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
        dbname = sa.engine.make_url(database).database
        assert dbname is not None
        procs = [Worker(cfg, tmp / f"w{workers}-{n}.log", concurrency=args.concurrency,
                        lease=120).start() for n in range(workers)]
        meter = CpuMeter(dbname, [w.pid for w in procs], args.server_pid)
        peak_conns = 0
        started = time.monotonic()
        try:
            cpu_start = meter.sample()
            while True:
                done = scalar(engine, "SELECT count(*) FROM sources WHERE last_poll IS NOT NULL")
                conns = scalar(engine, "SELECT count(*) FROM pg_stat_activity "
                                       "WHERE datname = :d", d=dbname)
                peak_conns = max(peak_conns, int(conns or 0))  # type: ignore[call-overload]
                cpu_end = meter.sample()
                if done == args.sources:
                    break
                if time.monotonic() - started > args.timeout:
                    sys.exit(f"{workers} worker(s): only {done} of {args.sources} polled "
                             f"after {args.timeout} s")
                if any(w.proc is not None and w.proc.poll() is not None for w in procs):
                    sys.exit(f"a worker died; see {tmp}")
                time.sleep(0.5)
            span = scalar(engine, "SELECT EXTRACT(EPOCH FROM max(last_poll) - min(last_poll)) "
                                  "FROM sources")
            idle = idle_round(engine, args.sources, dbname, meter)
            rss = [peak_rss_mb(w.pid) for w in procs]
        finally:
            for w in procs:
                w.stop()
            engine.dispose()
        gaps = get_json(ports[0], "/__gaps")
        rate = (args.sources - 1) / max(float(span or 0), 1e-9)  # type: ignore[arg-type]
        return Phase(workers, Round(rate, per_poll_ms(cpu_start, cpu_end, args.sources)), idle,
                     int(gaps["requests"]), float(gaps["min_gap"] or 0.0),
                     float(gaps["median_gap"] or 0.0), float(gaps["p90_gap"] or 0.0),
                     peak_conns, rss)


def idle_round(engine: sa.Engine, sources: int, dbname: str,
               meter: CpuMeter) -> Round:
    """Every source due again (its pages unchanged: 304s); transactions per poll."""
    def commits() -> int:
        return int(scalar(engine, "SELECT xact_commit FROM pg_stat_database WHERE datname = :d",
                          d=dbname) or 0)  # type: ignore[call-overload]

    before = commits()
    cpu_start = meter.sample()
    started = time.monotonic()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sources SET next_due = timezone('UTC', now())"))
        mark = conn.execute(sa.text("SELECT timezone('UTC', now())")).scalar()
    while scalar(engine, "SELECT count(*) FROM sources WHERE last_poll > :m", m=mark) != sources:
        meter.sample()
        time.sleep(0.5)
    seconds = time.monotonic() - started
    cpu = per_poll_ms(cpu_start, meter.sample(), sources)
    return Round(sources / seconds, cpu, (commits() - before) / sources)


def queries_per_idle_poll(args: argparse.Namespace, port: int) -> tuple[int, list[str]]:
    """One poll in-process after a first one: the listing answers 304. Every statement the
    store, lease, politeness and build code sends is counted (procrastinate's own per job,
    fetch and finish, are not: see the transactions per poll of the idle round)."""
    from feeder import config, jobs, worker

    with fresh_database(args.postgres, prefix="feeder_scale") as database, \
            tempfile.TemporaryDirectory() as tmp:
        cfg = config.load(write_config(Path(tmp) / "feeder.toml", {
            "out": str(Path(tmp) / "out"), "database": database, "host_delay": 0.0,
            "respect_robots": False}, [{"id": "s0", "name": "S0",
                                         "url": f"http://127.0.0.1:{port}/s0/"}]))
        rt = worker.prepare(cfg)
        jobs.poll_source(rt, "s0")
        with rt.store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE sources SET next_due = timezone('UTC', now())"))
        statements: list[str] = []
        lock = threading.Lock()

        def count(_conn: object, _cursor: object, statement: str, *_a: object) -> None:
            with lock:
                statements.append(" ".join(statement.split())[:70])

        # Every engine: the store's and the politeness gate's own pool.
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
        result = jobs.poll_source(rt, "s0")
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
        assert result is not None and result.status == "not-modified", result
        rt.poller.fetcher.close()
        rt.store.close()
    return len(statements), statements


def report(r: Phase, base: Phase, args: argparse.Namespace, cap: float) -> str:
    """The lines printed for one worker count."""
    cores = len(os.sched_getaffinity(0))
    lines = [f"  {r.workers} worker(s): per-host gap min {r.min_gap * 1000:.1f} ms, median "
             f"{r.median_gap * 1000:.0f} ms, p90 {r.p90_gap * 1000:.0f} ms over "
             f"{r.requests} requests; db connections {r.conns}; peak RSS per worker "
             f"{', '.join(f'{x:.0f}' for x in r.rss_mb)} MB"]
    for label, got, anchor, per_poll in (("first ingest", r.first, base.first, 1 + args.articles),
                                         ("idle round", r.idle, base.idle, 1)):
        cpu = got.cpu_ms
        total = sum(cpu.values())
        lines.append(
            f"    {label:12} {got.polls_s:6.1f} polls/s ({got.polls_s / anchor.polls_s:4.2f}x), "
            f"{got.polls_s * per_poll:5.1f} requests/s of the cap {cap:.0f}"
            + (f", {got.transactions_per_poll:.1f} transactions/poll"
               if got.transactions_per_poll is not None else "")
            + f"; CPU per poll: workers {cpu['workers']:.1f} ms, PostgreSQL "
            f"{cpu['postgres']:.1f} ms, site server {cpu['server']:.1f} ms (total {total:.1f} "
            f"ms: {cores * 1000 / max(total, 1e-9):.0f} polls/s would fill {cores} cores)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="feeder workers: scale-out bench")
    ap.add_argument("--postgres", default=os.environ.get("FEEDER_TEST_POSTGRES"),
                    help="a postgresql+psycopg:// URL; a fresh database is made per run")
    ap.add_argument("--sources", type=int, default=5000)
    ap.add_argument("--articles", type=int, default=1)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--delay", type=float, default=0.05, help="server delay per answer (s)")
    ap.add_argument("--host-delay", type=float, default=0.01)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--concurrency", type=int, default=1,
                    help="jobs at once per worker (see the module's docstring)")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    if not args.postgres:
        ap.error("--postgres (or FEEDER_TEST_POSTGRES) is required")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.workers", "--sources", str(args.sources),
         "--articles", str(args.articles), "--hosts", str(args.hosts), "--delay",
         str(args.delay)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdin is not None
    ports = json.loads(server.stdout.readline())["ports"]
    args.server_pid = server.pid
    # One request at a time per host, host_delay after the previous answer, for all workers.
    cap = args.hosts / (args.host_delay + args.delay)
    print(f"scale: {args.sources} sources x {args.articles} article on {args.hosts} hosts, "
          f"answers {args.delay * 1000:.0f} ms late, host_delay {args.host_delay} s "
          f"(per-host cap for all workers together: {cap:.0f} requests/s), concurrency "
          f"{args.concurrency} per worker, {os.cpu_count()} CPUs")
    results: list[Phase] = []
    try:
        with tempfile.TemporaryDirectory(prefix="feeder-scale-") as tmp:
            for n in args.workers:
                r = run_phase(args, ports, n, Path(tmp))
                results.append(r)
                print(report(r, results[0], args, cap), flush=True)
            n_queries, statements = queries_per_idle_poll(args, ports[0])
            print(f"  queries per idle poll (feeder's own, in-process): {n_queries}")
            for s in statements:
                print(f"    {s}")
    finally:
        server.stdin.close()
        server.wait(10)
    gap_ok = all(r.min_gap >= args.host_delay for r in results)
    print(f"per-host delay kept across workers: {'yes' if gap_ok else 'NO'}")
    return 0 if gap_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Helpers for tests and benches of ``feeder worker``: a fresh PostgreSQL database per test,
worker processes, and a loopback site that logs every request's arrival time per host.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.site import Reply, SiteServer

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("FEEDER_TEST_POSTGRES")


def require_postgres() -> str:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not available: set FEEDER_TEST_POSTGRES to a "
                    "postgresql+psycopg:// URL (.ci/run starts one)")
    return POSTGRES_URL


@contextmanager
def fresh_database(server_url: str, prefix: str = "feeder_w") -> Iterator[str]:
    """A new, empty database on ``server_url``'s server, dropped afterwards (connections too)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(sa.engine.make_url(server_url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server_url).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Worker:
    """One ``python -m feeder worker`` process; its log goes to ``log``."""

    def __init__(self, config: Path, log: Path, *, concurrency: int = 4, lease: float = 60.0,
                 extra: Sequence[str] = ()) -> None:
        self.config = config
        self.log = log
        self.args = [sys.executable, "-m", "feeder", "--config", str(config), "worker",
                     "--concurrency", str(concurrency), "--lease", str(lease), *extra]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        out.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (drain), then wait."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class TimedSite(SiteServer):
    """A :class:`SiteServer` that also logs ``(arrival time, port, path)`` of every request."""

    def __init__(self, resolve: Callable[[str], Reply | None], *, ports: int = 1,
                 delay: float = 0.0) -> None:
        self.arrivals: list[tuple[float, int, str]] = []
        self._arrivals_lock = threading.Lock()
        site = self
        super().__init__(resolve, ports=ports, delay=delay)
        base_get = self.handler_class.do_GET

        def do_get(handler: object) -> None:
            port = handler.server.server_address[1]  # type: ignore[attr-defined]
            with site._arrivals_lock:
                site.arrivals.append((time.time(), port,
                                      handler.path))  # type: ignore[attr-defined]
            base_get(handler)  # type: ignore[arg-type]

        self.handler_class.do_GET = do_get  # type: ignore[method-assign]

    def min_gap_per_host(self, exclude: Callable[[str], bool] = lambda p: False
                         ) -> dict[int, float]:
        """Per port, the smallest time between two request arrivals."""
        return {port: gap for port, (gap, _) in self.closest_per_host(exclude).items()}

    def closest_per_host(self, exclude: Callable[[str], bool] = lambda p: False
                         ) -> dict[int, tuple[float, float]]:
        """Per port, the smallest gap between two arrivals and when the second one came."""
        closest: dict[int, tuple[float, float]] = {}
        for port, gap, t in self._consecutive(exclude):
            if gap < closest.get(port, (float("inf"), 0.0))[0]:
                closest[port] = (gap, t)
        return closest

    def gaps(self, exclude: Callable[[str], bool] = lambda p: False) -> list[float]:
        """Every time between two consecutive arrivals at one port, sorted."""
        return sorted(gap for _, gap, _ in self._consecutive(exclude))

    def _consecutive(self, exclude: Callable[[str], bool]) -> list[tuple[int, float, float]]:
        """(port, gap, arrival) for each arrival after the first at its port, in time order."""
        with self._arrivals_lock:
            rows = sorted(self.arrivals)
        last: dict[int, float] = {}
        found: list[tuple[int, float, float]] = []
        for t, port, path in rows:
            if exclude(path):
                continue
            if port in last:
                found.append((port, t - last[port], t))
            last[port] = t
        return found


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


# -- a timed site served from its own process (bench/scale.py) ---------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    """Serve ``--sources`` generated sources on ``--hosts`` ports, each answer ``--delay`` s late.

    ``GET /__gaps`` answers ``{"requests": n, "min_gap": seconds, "median_gap": seconds,
    "p90_gap": seconds}``: the smallest, median and 90th percentile time between two
    consecutive arrivals at one port since the last ``GET /__reset``.
    """
    import argparse
    import json

    from tests.support.site import generated_site

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--sources", type=int, default=5000)
    ap.add_argument("--articles", type=int, default=1)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--delay", type=float, default=0.05)
    args = ap.parse_args(argv)
    holder: dict[str, TimedSite] = {}
    pages = generated_site(args.sources, args.articles,
                           lambda i: holder["srv"].url("", i % args.hosts))

    def resolve(path: str) -> Reply | None:
        srv = holder["srv"]
        if path == "/__gaps":
            gaps = srv.gaps(exclude=lambda p: p.startswith("/__"))
            count = sum(1 for _, _, p in srv.arrivals if not p.startswith("/__"))

            def rank(share: float) -> float | None:
                return gaps[min(len(gaps) - 1, int(share * len(gaps)))] if gaps else None

            return Reply(json.dumps({"requests": count, "min_gap": rank(0.0),
                                     "median_gap": rank(0.5), "p90_gap": rank(0.9)}).encode(),
                         200, {"Content-Type": "application/json"})
        if path == "/__reset":
            with srv._arrivals_lock:
                srv.arrivals.clear()
            return Reply(b"{}", 200, {"Content-Type": "application/json"})
        return pages(path)

    srv = TimedSite(resolve, ports=args.hosts, delay=args.delay)
    holder["srv"] = srv
    with srv:
        print(json.dumps({"ports": srv.ports}), flush=True)
        while sys.stdin.read(1):  # until the parent closes our stdin (or dies)
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""README "Scaling out", followed on one machine: two `feeder worker` processes on PostgreSQL
publish the same feeds as `feeder run --once` on SQLite, for the same sources (issue 11)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.site import SiteServer, generated_site, write_config
from tests.support.workers import ROOT, Worker, fresh_database, require_postgres, wait_for

SOURCES, ARTICLES = 4, 3
FILES = [f"s{i}/{name}" for i in range(SOURCES) for name in ("rss.xml", "atom.xml", "feed.json")]
FILES += ["all/rss.xml", "all/atom.xml", "all/feed.json", "feeds.opml"]


@pytest.fixture
def site() -> Iterator[SiteServer]:
    holder: dict[str, SiteServer] = {}
    srv = SiteServer(generated_site(SOURCES, ARTICLES, lambda i: holder["srv"].url("", i)),
                     ports=2)
    holder["srv"] = srv
    with srv:
        yield srv


def _config(path: Path, database: str, out: Path, site: SiteServer) -> Path:
    path.mkdir()
    return write_config(path / "feeder.toml", {
        "out": str(out), "database": database, "host_delay": 0.05, "respect_robots": False,
        "base_url": "https://feeds.example.org/",
    }, [{"id": f"s{i}", "name": f"Báo {i}", "url": site.url(f"/s{i}/", i), "interval": "1h"}
        for i in range(SOURCES)])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith((name + " ", name + "{")))


def _combined_items(out: Path) -> int:
    path = out / "all" / "feed.json"
    return len(json.loads(path.read_bytes())["items"]) if path.exists() else 0


def test_two_workers_publish_what_run_once_publishes(tmp_path: Path, site: SiteServer) -> None:
    with fresh_database(require_postgres()) as database:
        out_workers = tmp_path / "public-workers"
        cfg = _config(tmp_path / "workers", database, out_workers, site)
        ports = [_free_port() for _ in range(2)]
        workers = [Worker(cfg, tmp_path / f"worker{n}.log", concurrency=2,
                          extra=["--metrics-port", str(ports[n])]).start() for n in range(2)]
        try:
            wait_for(lambda: _combined_items(out_workers) == SOURCES * ARTICLES
                     and all((out_workers / f).exists() for f in FILES), 90,
                     "the workers' feeds")
            # Each worker answers for itself: its polls add up with the other's.
            polls = [_metric(port, "feeder_worker_polls") for port in ports]
            assert sum(polls) == SOURCES
        finally:
            codes = [w.stop() for w in workers]
        assert codes == [0, 0], [w.log.read_text()[-2000:] for w in workers]
        logs = "".join(w.log.read_text() for w in workers)
        assert logs.count("poll.start") == SOURCES  # each source polled once, by one worker

    out_once = tmp_path / "public-once"
    cfg_once = _config(tmp_path / "once", str(tmp_path / "once.db"), out_once, site)
    done = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg_once), "run",
                           "--once"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]

    for name in FILES:
        assert (out_workers / name).read_bytes() == (out_once / name).read_bytes(), name

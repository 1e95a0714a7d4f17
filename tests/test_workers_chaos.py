"""Chaos: three `feeder worker` processes, SIGKILLed and restarted ten times (issue 11).

200 loopback sources on 10 hosts (ports), a site that grows while the workers run. One worker
at a time, chosen at random, is killed with SIGKILL: every other kill the moment it starts a feed
build, the others shortly after it starts a poll; it is restarted at once. Then the site stops
growing, every source is polled once more, the workers drain, and:

* no source is lost: between two polls of a source (and after its last one) there is never more
  than interval + lease + slack;
* no two polls of one source overlap (a killed poll ends when its process died);
* no item is duplicated, in the database or in any feed;
* every published file of a feed (its .gz, its archives) and of the combined feed is byte for
  byte what the database renders, once the site has caught up with the last change;
* per host, no two requests arrived closer than host_delay, across all workers.

The random seed is printed; ``FEEDER_CHAOS_SEED=<seed>`` replays the choice of victims.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from feeder import config
from feeder.model import SourceFeed
from feeder.output import open_output
from feeder.pipeline import render_site
from feeder.publish import publish_site_files, publish_source
from feeder.publish.archive import publish_archives
from feeder.store import SITE_FEED, Store
from tests.support.site import (
    Reply,
    article_html,
    article_title,
    feed_ids,
    is_temp_name,
    listing_html,
    write_config,
)
from tests.support.workers import TimedSite, Worker, fresh_database, require_postgres, wait_for

pytestmark = pytest.mark.slow

SOURCES, HOSTS, WORKERS, KILLS = 200, 10, 3, 10
MAX_ITEMS = 3  # per feed: the older items go to the archives, which are checked too
INTERVAL, LEASE, HOST_DELAY = 45.0, 5.0, 0.1
# Beyond interval + lease: a dispatch tick and the wait in the queue.
SLACK = 20.0
FIRST, GROW_EVERY = 2, 30.0  # articles per source at the start; one more every GROW_EVERY s

_LINE = re.compile(r"^(\S+ \S+) INFO feeder\.[\w.]+ (poll\.start|poll\.end|publish\.source) "
                   r"source=(\S+)(?: token=(\d+))?")
# Logged inside a feed build, under the feed's lock, just before its files are written.
MID_BUILD = "publish.archives"


class GrowingSite:
    """Source i lists FIRST articles, one more every GROW_EVERY seconds until :meth:`freeze`."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.frozen: int | None = None
        self.base: dict[int, str] = {}

    def count(self) -> int:
        if self.frozen is not None:
            return self.frozen
        return FIRST + int((time.monotonic() - self.started) / GROW_EVERY)

    def freeze(self) -> int:
        self.frozen = self.count()
        return self.frozen

    def resolve(self, path: str) -> Reply | None:
        parts = path.strip("/").split("/")
        if not parts[0].startswith("s") or not parts[0][1:].isdigit():
            return None
        i, n = int(parts[0][1:]), self.count()
        if len(parts) == 1:
            return Reply.html(listing_html(f"/s{i}/tin-{k}-hoi-nghi-tong-ket.html"
                                           for k in reversed(range(n))))
        k = parts[1].split("-")[1] if parts[1].startswith("tin-") else ""
        if k.isdigit() and int(k) < n:
            return Reply.html(article_html(f"{self.base[i % HOSTS]}{path}",
                                           article_title(i, int(k)), minute=int(k) % 60))
        return None


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_database(require_postgres()) as url:
        yield url


def _events(logs: list[tuple[Path, float | None]]) -> tuple[dict[str, list[tuple[float, float]]],
                                                             int]:
    """Per source, the (start, end) of each poll; a poll without an end ends at its process's
    kill time. Also the number of builds started."""
    polls: dict[str, list[tuple[float, float]]] = {}
    builds = 0
    for path, killed_at in logs:
        open_polls: dict[tuple[str, str], float] = {}
        for line in path.read_text(errors="replace").splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            when = datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            event, source, token = m[2], m[3], m[4] or ""
            if event == "poll.start":
                open_polls[(source, token)] = when
            elif event == "poll.end" and (source, token) in open_polls:
                polls.setdefault(source, []).append((open_polls.pop((source, token)), when))
            elif event == "publish.source":
                builds += 1
        for (source, _), started in open_polls.items():
            assert killed_at is not None, f"{path}: poll of {source} never ended"
            polls.setdefault(source, []).append((started, killed_at))
    return polls, builds


def _wait_for_line(path: Path, pattern: str, after: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        if pattern in text[after:]:
            return True
        time.sleep(0.005)
    return False


def test_workers_survive_sigkill(tmp_path: Path, database: str) -> None:
    seed = int(os.environ.get("FEEDER_CHAOS_SEED", random.randrange(1 << 30)))
    print(f"FEEDER_CHAOS_SEED={seed}")
    rng = random.Random(seed)
    growing = GrowingSite()
    with TimedSite(growing.resolve, ports=HOSTS) as site:
        for h in range(HOSTS):
            growing.base[h] = site.url("", h)
        cfg_path = write_config(tmp_path / "feeder.toml", {
            "out": str(tmp_path / "out"), "database": database, "host_delay": HOST_DELAY,
            "respect_robots": False, "max_articles_per_poll": 10,
        }, [{"id": f"s{i}", "name": f"Nguồn {i}", "url": site.url(f"/s{i}/", i % HOSTS),
             "interval": f"{INTERVAL:.0f}s", "max_items": MAX_ITEMS} for i in range(SOURCES)])
        logs: list[tuple[Path, float | None]] = []
        runs = [0] * WORKERS

        def start(slot: int) -> Worker:
            runs[slot] += 1
            path = tmp_path / f"worker{slot}-{runs[slot]}.log"
            return Worker(cfg_path, path, concurrency=8, lease=LEASE).start()

        workers = [start(slot) for slot in range(WORKERS)]
        engine = sa.create_engine(database)
        try:
            # Warm up: every source polled once.
            wait_for(lambda: _count(engine, "SELECT count(*) FROM sources "
                                    "WHERE last_poll IS NOT NULL") >= SOURCES,
                     120, "every source's first poll")
            for kill in range(KILLS):
                slot = rng.randrange(WORKERS)
                victim = workers[slot]
                mark = victim.log.stat().st_size
                pattern = MID_BUILD if kill % 2 == 0 else "poll.start"
                if not _wait_for_line(victim.log, pattern, mark, 40):
                    pytest.fail(f"worker {slot} logged no {pattern} within 40 s")
                if pattern == "poll.start":
                    time.sleep(rng.uniform(0, 0.3))
                victim.kill()
                logs.append((victim.log, time.time()))
                workers[slot] = start(slot)
                time.sleep(rng.uniform(1, 3))
            frozen_at = time.time()
            growing.freeze()
            # Settle: every source polled after the site stopped growing, no lease held.
            wait_for(lambda: _count(engine, "SELECT count(*) FROM sources WHERE last_poll > "
                                    "timezone('UTC', to_timestamp(:t))", t=frozen_at) >= SOURCES,
                     INTERVAL + LEASE + SLACK + 30, "every source polled after the last change")
            wait_for(lambda: _count(engine, "SELECT count(*) FROM feeder_leases "
                                    "WHERE holder IS NOT NULL") == 0, 30, "all leases released")
            # The site files catch up with the last change (a build waits SITE_PAUSE or more).
            wait_for(lambda: _count(engine, "SELECT count(*) FROM feeds WHERE id = :site AND "
                                    "written_version >= content_version", site=SITE_FEED) == 1,
                     60, "the site files built from the last change")
            ended = time.time()
        finally:
            for w in workers:
                w.stop()
            engine.dispose()
        logs += [(w.log, None) for w in workers]
        closest = site.closest_per_host()
        arrivals = list(site.arrivals)
        gaps = {port: gap for port, (gap, _) in closest.items()}

    polls, builds = _events(logs)
    kill_times = [k for _, k in logs if k is not None]
    assert builds > 0
    # No source lost.
    bound = INTERVAL + LEASE + SLACK
    worst_gap = 0.0
    for i in range(SOURCES):
        runs_of = sorted(polls.get(f"s{i}", []))
        assert runs_of, f"s{i} never polled"
        # The next poll is due an interval after the previous one ended; each kill in between
        # (of a worker that had taken the source) may add one lease.
        for (_, e1), (s2, _) in itertools.pairwise(runs_of):
            kills = sum(e1 < k < s2 for k in kill_times)
            allowed = INTERVAL + LEASE * max(1, kills) + SLACK
            worst_gap = max(worst_gap, s2 - e1 - LEASE * max(0, kills - 1))
            assert s2 - e1 <= allowed, \
                f"s{i}: {s2 - e1:.1f} s between two polls (bound {allowed:.0f} s, {kills} kills)"
        # No two polls of one source overlap.
        for (s1, e1), (s2, _) in itertools.pairwise(runs_of):
            assert s2 >= e1, f"s{i}: a poll started at {s2:.3f} before the one of {s1:.3f} ended"
    assert ended - frozen_at <= bound + 30

    # Politeness across workers.
    assert len(gaps) == HOSTS
    port = min(gaps, key=lambda p: gaps[p])
    near = [round(k - closest[port][1], 3) for k in kill_times if abs(k - closest[port][1]) < 5]
    second = closest[port][1]
    around = [(round(t - second, 3), path) for t, p, path in arrivals
              if p == port and abs(t - second) < 1]
    assert gaps[port] >= HOST_DELAY, \
        f"port {port}: two requests {gaps[port] * 1000:.1f} ms apart at {second:.3f} " \
        f"(kills at {near} s from it); arrivals around: {around}"

    cfg = config.load(cfg_path)
    store = Store(database)
    try:
        with store.engine.begin() as conn:
            dupes = conn.execute(sa.text(
                "SELECT source, article_id FROM articles GROUP BY source, article_id "
                "HAVING count(*) > 1")).all()
        assert not dupes
        # Every file of each feed (its .gz, its archives) and of the combined feed is what
        # the database renders now.
        rendered = tmp_path / "rendered"
        settings = replace(cfg.settings, out=rendered)
        for source in cfg.sources:
            assert store.count_articles(source.id) == growing.frozen, source.id
            archives = publish_archives(settings, source, store)
            articles = store.articles_for(source.id, source.max_items)
            publish_source(settings, SourceFeed(source, articles, store.health(source.id)),
                           prev_archive=archives.newest)
            _assert_same_files(cfg.settings.out / source.id, rendered / source.id)
            for name in ("rss.xml", "atom.xml", "feed.json"):
                ids = feed_ids(name, (rendered / source.id / name).read_bytes())
                assert len(ids) == len(set(ids)) == min(growing.frozen, MAX_ITEMS)
        assert archives.newest is not None  # items have left the feeds: archives were checked
        files, _ = render_site(settings, store, cfg.sources, open_output(settings))
        publish_site_files(settings, files)
        _assert_same_files(cfg.settings.out / "all", rendered / "all")
    finally:
        store.close()
    print(f"chaos: polls={sum(len(v) for v in polls.values())} builds={builds} "
          f"worst_gap_s={worst_gap:.1f} "
          f"min_gap_ms={min(gaps.values()) * 1000:.0f} settle_s={ended - frozen_at:.0f}")


def _assert_same_files(published: Path, rendered: Path) -> None:
    """The same files (temporary ones aside), byte for byte, in both folders."""
    def files(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
                if p.is_file() and not is_temp_name(p.name)}

    got, want = files(published), files(rendered)
    assert sorted(got) == sorted(want), f"{published}: files differ"
    for name, data in want.items():
        assert got[name] == data, f"{published / name} differs from the database"
    assert any(name.endswith(".gz") for name in want)


def _count(engine: sa.Engine, query: str, **params: object) -> int:
    """A count; 0 while the workers have not created the tables yet."""
    try:
        with engine.begin() as conn:
            return int(conn.execute(sa.text(query), params).scalar_one())
    except sa.exc.ProgrammingError:
        return 0


"""Scheduling: when each source is polled next, and the APScheduler wiring that ticks.

The schedule is data in the store (``sources.next_due``), not APScheduler's memory: APScheduler
only fires one job per source at the source's interval (with jitter), and the job asks the store
whether the source is due. A restart therefore goes on where it stopped, and a source in backoff
stays in backoff.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from feeder import clock
from feeder.policy import WINDOW, PollPlan, next_poll

if TYPE_CHECKING:
    from feeder.config import Source
    from feeder.pipeline import Poller
    from feeder.store import Store

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=4)
# Seconds a stopping run waits for polls in flight to finish their current page.
STOP_GRACE = 8.0


def next_poll_at(interval: timedelta, failures: int, now: datetime) -> datetime:
    """When to poll next: the interval, doubled per consecutive failure, capped. Pure."""
    if failures <= 0:
        return now + interval
    backoff = interval * (2 ** min(failures, 16))
    return now + min(backoff, max(MAX_BACKOFF, interval))


def plan_poll(source: Source, failures: int, now: datetime, *,
              history: Sequence[datetime] = (),
              watched_since: datetime | None = None) -> PollPlan:
    """When to poll ``source`` next and why. Pure.

    A failing source backs off from its shortest interval (:func:`next_poll_at`); otherwise a
    fixed source waits its ``interval`` and an adaptive one what feeder.policy.next_poll
    learns from ``history`` (the publication times of its items).
    """
    if failures > 0:
        return PollPlan(next_poll_at(source.interval, failures, now),
                        f"backing off after {failures} failure(s) in a row")
    if not source.adaptive:
        return PollPlan(now + source.interval, f"fixed interval {source.interval}")
    assert source.min_interval is not None and source.max_interval is not None
    return next_poll(history, now, tz=source.tz, min_interval=source.min_interval,
                     max_interval=source.max_interval, watched_since=watched_since)


def plan_from_store(store: Store, source: Source, failures: int, now: datetime) -> PollPlan:
    """:func:`plan_poll` with the history the store holds for ``source``."""
    if failures > 0 or not source.adaptive:
        return plan_poll(source, failures, now)
    return plan_poll(source, failures, now,
                     history=store.publication_history(source.id, now - WINDOW),
                     watched_since=store.watched_since(source.id))


def is_due(next_due: datetime | None, now: datetime) -> bool:
    return next_due is None or next_due <= now


class Runner:
    """Runs the poller under APScheduler until :meth:`stop` (or SIGINT / SIGTERM)."""

    def __init__(self, poller: Poller, *, jitter: float = 0.1) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.poller = poller
        self.jitter = jitter
        self._done = threading.Event()
        workers = max(1, poller.settings.workers)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone="UTC",
        )

    def _job(self, source: Source) -> None:
        if self.poller.stop.is_set():
            return
        now = clock.now()
        if not is_due(self.poller.store.next_due(source.id), now):
            return  # in backoff, or polled recently before a restart
        result = self.poller.poll(source)
        if result.changed or result.status == "error" or self.poller.site_behind():
            self.poller.publish_site()

    def start(self) -> None:
        now = clock.now()
        for source in self.poller.config.sources:
            seconds = source.interval.total_seconds()
            due = self.poller.store.next_due(source.id)
            # First run: start soon, spread over a few seconds so sources do not all fire at once.
            first = max(now, due) if due else now + timedelta(seconds=random.uniform(0, 2))
            self.scheduler.add_job(
                self._job, "interval", args=[source], id=source.id, name=source.id,
                seconds=seconds, jitter=max(1, int(seconds * self.jitter)), next_run_time=first,
            )
            log.info("schedule.added source=%s interval=%ss first=%s", source.id, int(seconds),
                     first.isoformat(timespec="seconds"))
        self.scheduler.start()

    def stop(self, *_args: object) -> None:
        """Ask polls in flight to finish the page at hand, then stop."""
        self.poller.stop.set()
        self._done.set()

    def run_forever(self) -> None:
        """Start, block until SIGINT / SIGTERM, stop cleanly within a few seconds."""
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.poller.publish_site()
            self.start()
            self.poller.hub.start()
            self._done.wait()
        finally:
            log.info("run.stopping")
            self.scheduler.shutdown(wait=False)
            self.poller.hub.stop()
            # Polls check the stop flag between pages; wait for those in flight, within a bound.
            deadline = time.monotonic() + STOP_GRACE
            for thread in threading.enumerate():
                if thread.name.startswith("ThreadPoolExecutor") and thread.is_alive():
                    thread.join(timeout=max(0.0, deadline - time.monotonic()))
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("run.stopped")

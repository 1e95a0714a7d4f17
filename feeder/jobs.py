"""The units of work of the distributed driver: ``poll_source(id)``, ``build_feed(id)``,
``build_site()``. Each is safe to run twice and on any worker:

::

    poll_source(id)   lease (token) -> due? -> Poller.poll (fenced writes; the feed is rebuilt
                      when behind the store's version) -> lease released
    build_feed(id)    lease (token) -> feed files rewritten from the store -> lease released
    build_site()      combined feed, index, OPML, status.json from the store (one at a time:
                      the job queue's lock)

A second run of a poll finds the lease held (skipped) or the source no longer due (nothing
done); a stale run whose lease was taken over has every write refused (:class:`LeaseLost`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from feeder import clock
from feeder.leases import LeaseLost, Leases
from feeder.pipeline import Poller, PollResult
from feeder.schedule import is_due

if TYPE_CHECKING:
    from feeder.config import Config, Source
    from feeder.store import Store

log = logging.getLogger(__name__)


@dataclass
class Counters:
    """What this worker did, for its registry row and ``feeder status``."""

    polls: int = 0
    failures: int = 0
    state: str = "running"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, result: PollResult) -> None:
        with self.lock:
            self.polls += 1
            self.failures += result.status == "error"


@dataclass
class Runtime:
    """Everything a worker process needs to run jobs; one per process, shared by its threads."""

    config: Config
    store: Store
    poller: Poller
    leases: Leases
    counters: Counters = field(default_factory=Counters)

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.config.sources if s.id == source_id), None)


def poll_source(rt: Runtime, source_id: str) -> PollResult | None:
    """Poll one source under its lease; ``None`` when there was nothing to do or it was fenced."""
    source = rt.source(source_id)
    if source is None:
        log.warning("poll.unknown_source source=%s", source_id)
        return None
    token = rt.leases.acquire(source_id)
    if token is None:
        log.info("poll.skipped source=%s reason=leased", source_id)
        return None
    try:
        with rt.leases.fenced(source_id, token):
            if not is_due(rt.store.next_due(source_id), clock.now()):
                log.info("poll.skipped source=%s reason=not-due", source_id)
                return None
            log.info("poll.start source=%s token=%d", source_id, token)
            result = rt.poller.poll(source)
        rt.counters.count(result)
        return result
    except LeaseLost as exc:
        log.warning("poll.fenced source=%s token=%d error=%s", source_id, token, exc)
        return None
    finally:
        rt.leases.release(source_id, token)
        log.info("poll.end source=%s token=%d", source_id, token)


def build_feed(rt: Runtime, source_id: str) -> list[str] | None:
    """Rewrite one source's feed files from the store, under the source's lease."""
    source = rt.source(source_id)
    token = rt.leases.acquire(source_id) if source is not None else None
    if source is None or token is None:
        log.info("build.skipped source=%s", source_id)
        return None
    try:
        with rt.leases.fenced(source_id, token):
            return rt.poller.publish(source, force=True)
    except LeaseLost as exc:
        log.warning("build.fenced source=%s error=%s", source_id, exc)
        return None
    finally:
        rt.leases.release(source_id, token)


_site_seconds = 0.0  # how long this process's latest site build took


def last_site_seconds() -> float:
    return _site_seconds


def build_site(rt: Runtime) -> list[str]:
    """The combined feed and the site files, from the store."""
    global _site_seconds
    log.info("site.start")
    started = time.monotonic()
    written = rt.poller.publish_site()
    _site_seconds = time.monotonic() - started
    log.info("site.done written=%d seconds=%.2f", len(written), _site_seconds)
    return written

"""WebSub publishing (https://www.w3.org/TR/websub/): tell the hubs when a feed's bytes change.

::

    publish_source / publish_site -> changed paths
    | topics(changed, out, base_url)     feed files only (rss.xml, atom.xml, feed.json), as URLs
    | Store.queue_pings(hub x topic)     the persisted outbox (one row per hub and feed)
    HubNotifier.drain()                  POST hub.mode=publish&hub.url=<topic> to each hub
    | Store.record_ping(...)             sent, or retried with backoff, or given up (status)

Publishing only writes rows into the outbox: it never waits for a hub. The notifier sends them
afterwards, from ``feeder run --once`` when the run is over or from a background thread under the
scheduler. An unchanged feed writes no file, so it is never announced. The publish request itself
is the de-facto one every hub implements (WebSub leaves it to the hub; PubSubHubbub 0.4 section 7
defines it): a form-encoded POST of ``hub.mode=publish`` and ``hub.url``; any 2xx is success.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import requests

from feeder import clock
from feeder.config import Settings
from feeder.store import HubPing, Store

log = logging.getLogger(__name__)

#: The feed files a hub is told about (never their .gz twins, archives or site pages).
FEED_NAMES = frozenset({"rss.xml", "atom.xml", "feed.json"})
#: First retry after a failed notification; doubled per further failure, up to BACKOFF_MAX.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
#: Attempts for one change before it is given up (about seven hours with the values above).
GIVE_UP_AFTER = 12
#: Per feed path, the HTTP ``Link`` header that advertises its hubs and itself (WebSub section 4
#: makes the header the discovery every subscriber and hub can rely on). nginx includes it as a
#: map, ``feeder serve`` reads it; not ``*.map``, which is the Cache-Control map's glob.
LINKS_FILE = ".feeder/websub.links"


def topics(changed: Iterable[Path], out: Path, base_url: str) -> list[str]:
    """The public URLs of the feed files among ``changed`` (paths under ``out``). Pure."""
    urls = []
    for path in changed:
        if path.name in FEED_NAMES:
            urls.append(urljoin(base_url, path.relative_to(out).as_posix()))
    return list(dict.fromkeys(urls))


def link_header(hubs: Sequence[str], self_url: str) -> str:
    """``<hub>; rel="hub", ..., <self>; rel="self"`` (RFC 8288). Pure."""
    return ", ".join([*(f'<{h}>; rel="hub"' for h in hubs), f'<{self_url}>; rel="self"'])


def links_map(settings: Settings, keys: Iterable[str]) -> bytes:
    """The LINKS_FILE body for the feeds of ``keys`` (source ids and "all"); without a hub, no
    line: a feed then advertises nothing."""
    lines = ["# Written by feeder: the WebSub Link header of each feed (nginx map lines)."]
    if settings.hubs:
        for key in sorted(keys):
            for name in sorted(FEED_NAMES):
                value = link_header(settings.hubs, urljoin(settings.base_url, f"{key}/{name}"))
                # nginx quotes the value with ' (the header has "); a URL carries %27 instead.
                lines.append(f"\"/{key}/{name}\" '{value.replace(chr(39), '%27')}';")
    return ("\n".join(lines) + "\n").encode("utf-8")


def retry_at(attempts_done: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts_done`` failed attempts, or None to give up. Pure."""
    if attempts_done >= GIVE_UP_AFTER:
        return None
    return now + min(BACKOFF_BASE * 2 ** max(attempts_done - 1, 0), BACKOFF_MAX)


def notify(session: requests.Session, hub: str, topic: str,
           timeout: tuple[float, float]) -> str | None:
    """Send one publish notification; return None on success, else what went wrong."""
    try:
        # hub.url is the name PubSubHubbub 0.4 gave the topic, hub.topic the one WebSub uses for
        # everything else; hubs read one or the other, so both are sent.
        response = session.post(hub, data={"hub.mode": "publish", "hub.url": topic,
                                           "hub.topic": topic},
                                timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return f"{hub}: {exc.__class__.__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return None
    return f"{hub}: HTTP {response.status_code} {response.reason or ''}".rstrip()


@dataclass(frozen=True, slots=True)
class DrainResult:
    sent: int = 0
    failed: int = 0


class HubNotifier:
    """Queues and sends the publish notifications of one feeder process. Thread-safe."""

    def __init__(self, settings: Settings, store: Store,
                 session: requests.Session | None = None) -> None:
        self.settings = settings
        self.store = store
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = settings.full_user_agent
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.settings.hubs)

    def queue(self, changed: Sequence[Path | str]) -> int:
        """Queue a notification to every hub for each feed file among ``changed``."""
        if not self.enabled:
            return 0
        urls = topics((Path(p) for p in changed), Path(self.settings.out), self.settings.base_url)
        n = self.store.queue_pings(((h, t) for h in self.settings.hubs for t in urls),
                                   clock.now())
        if n:
            self._wake.set()
        return n

    def drain(self) -> DrainResult:
        """Send every notification that is due now, once each; failures are rescheduled."""
        if not self.enabled:
            return DrainResult()
        sent = failed = 0
        with self._lock:  # one drain at a time in this process: no ping is sent twice at once
            timeout = (self.settings.connect_timeout, self.settings.read_timeout)
            for ping in self.store.due_pings(clock.now()):
                if self._stop.is_set():
                    break
                error = notify(self.session, ping.hub, ping.topic, timeout)
                now = clock.now()
                retry = None if error is None else retry_at(ping.attempts + 1, now)
                self.store.record_ping(ping, now, error, retry)
                if error is None:
                    sent += 1
                    log.info("websub.sent hub=%s topic=%s", ping.hub, ping.topic)
                else:
                    failed += 1
                    log.warning("websub.failed hub=%s topic=%s attempts=%d retry=%s error=%s",
                                ping.hub, ping.topic, ping.attempts + 1,
                                retry.isoformat(timespec="seconds") if retry else "never",
                                error)
        return DrainResult(sent, failed)

    # -- background sender (scheduler mode) -----------------------------------------------

    def start(self) -> None:
        """Send in a background thread: at once when something is queued, else when due."""
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="websub", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
                due = self.store.next_ping_due()
            except Exception:  # a store or bug failure must not end the sender for good
                log.exception("websub.drain_crash")
                due = None
            wait = 60.0 if due is None else max(0.0, (due - clock.now()).total_seconds())
            self._wake.wait(min(wait, 60.0))
            self._wake.clear()


def failures(pings: Iterable[HubPing]) -> list[HubPing]:
    """The outbox rows worth showing an operator: retrying after an error, or given up."""
    return [p for p in pings if p.last_error and p.state in ("pending", "failed")]

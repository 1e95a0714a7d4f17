"""Politeness shared by every worker: one request at a time per host, spaced in the database.

Each process keeps its own per-host lock and delay (``feeder.fetch``); with several workers that
is not enough, since N processes would hit a host N times as often. :class:`SharedHostGate`
adds, on PostgreSQL, a turn per host that all workers take in order::

    take    one upsert that first takes the host's advisory lock (waiting for the worker whose
            turn it is), then reserves the next start time and returns it:
              next_at = GREATEST(next_at, hold_until, now) + delay + guard
            RETURNING next_at - delay - guard       -- sleep until then (database clock)
    stamp   after a sleep: next_at = now + delay + guard (the request goes out now)
    request the HTTP exchange, lock still held
    done    next_at = now + delay, lock released (one statement)

Why the lock is held over the request, not only the reservation: a request can start late for
its reserved slot (a busy CPU, a slow query, the GIL), and the next holder would then come
closer than ``delay``. Held over the exchange, the next request starts ``delay`` after this one
was answered, whatever the delays. A worker that dies in the middle loses its session and with
it the lock; the reservation stamped when it sent its request (``+ guard``) still keeps the
next request away. A Retry-After sets ``hold_until`` for every worker (:meth:`hold_off`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from feeder.errors import FetchError

log = logging.getLogger(__name__)

coordination = sa.MetaData()

host_slots = sa.Table(
    "feeder_host_slots", coordination,
    sa.Column("origin", sa.String(255), primary_key=True),  # scheme://host[:port], lower case
    sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),  # earliest next start
    sa.Column("hold_until", sa.DateTime(timezone=True)),  # Retry-After: nobody before
    sa.Column("requests", sa.BigInteger, nullable=False, server_default="0"),
)

_TAKE = sa.text("""
INSERT INTO feeder_host_slots (origin, next_at, requests)
SELECT :origin, clock_timestamp() + make_interval(secs => :span), 1
  FROM (SELECT set_config('lock_timeout', :lock_timeout, true), pg_advisory_lock(:key)) AS turn
ON CONFLICT (origin) DO UPDATE
   SET next_at = GREATEST(feeder_host_slots.next_at, feeder_host_slots.hold_until,
                          clock_timestamp()) + make_interval(secs => :span),
       requests = feeder_host_slots.requests + 1
RETURNING EXTRACT(EPOCH FROM feeder_host_slots.next_at)::float8 - :span
""")

# The unlock is in RETURNING so that it runs after the row is updated (in a WITH query's
# select list it could run first, and the next holder would read the old next_at).
_DONE = sa.text("""
UPDATE feeder_host_slots SET next_at = clock_timestamp() + make_interval(secs => :delay)
 WHERE origin = :origin
RETURNING pg_advisory_unlock(:key)
""")

_UNLOCK = sa.text("SELECT pg_advisory_unlock(:key)")

# After waiting for the start time: the reservation counted from the moment of sending.
_STAMP = sa.text("UPDATE feeder_host_slots SET next_at = clock_timestamp() "
                 "+ make_interval(secs => :span) WHERE origin = :origin")

_HOLD_OFF = sa.text("""
INSERT INTO feeder_host_slots (origin, next_at, hold_until)
VALUES (:origin, clock_timestamp(), clock_timestamp() + make_interval(secs => :seconds))
ON CONFLICT (origin) DO UPDATE
   SET hold_until = GREATEST(feeder_host_slots.hold_until,
                             clock_timestamp() + make_interval(secs => :seconds))
""")

_LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock_timeout

_DB_TIME = sa.text("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8")

# Added to each reservation, for a worker that dies during its request: its request may have
# started this late. A fraction of the host delay, within bounds (seconds).
GUARD_SHARE = 0.1
MIN_GUARD, MAX_GUARD = 0.05, 0.2
# How often the offset between this machine's clock and the database's is measured again.
CLOCK_SYNC_EVERY = 60.0


def guard_for(delay: float) -> float:
    """The slack added to a reservation for a host whose delay is ``delay``. Pure."""
    return min(MAX_GUARD, max(MIN_GUARD, delay * GUARD_SHARE))


def lock_key(origin: str) -> int:
    """The advisory lock key of a host: 64 bits of a hash of its origin. Pure."""
    return int.from_bytes(hashlib.blake2b(origin.encode(), digest_size=8).digest(), "big",
                          signed=True)


class _Turn:
    """A host's turn, held on one database session until :meth:`done`."""

    def __init__(self, conn: sa.Connection, origin: str, key: int, delay: float) -> None:
        self._conn, self._origin, self._key, self._delay = conn, origin, key, delay

    def done(self) -> None:
        try:
            unlocked = self._conn.execute(_DONE, {"origin": self._origin, "key": self._key,
                                                  "delay": self._delay}).first()
            if unlocked is None:  # the row went away (someone emptied the table): unlock anyway
                self._conn.execute(_UNLOCK, {"key": self._key})
        finally:
            self._conn.close()


class SharedHostGate:
    """:class:`feeder.fetch.HostGate` on PostgreSQL (see the module's docstring).

    Start times are the database's; this process converts them with a measured clock offset
    (the sample with the shortest round trip, as NTP does, taken so as never to be early).
    ``sleep`` should return early when the process is stopping (a stop event's ``wait``);
    ``clock`` is the local wall clock. Each turn holds a connection of ``engine`` while it
    lasts. Safe to share between threads.
    """

    def __init__(self, engine: Engine, *, sleep: Callable[[float], object] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._offset = 0.0  # database epoch minus local epoch
        self._synced_at: float | None = None

    def take_turn(self, origin: str, delay: float, timeout: float | None = None) -> _Turn:
        """Wait for ``origin``'s turn and its start time; the caller sends its request, then
        calls ``done()`` on what this returns. ``timeout``: the seconds the caller has left (a
        poll's deadline); FetchError when the turn would start later. A turn given up keeps
        its reservation: the host's next request is then later than needed, never sooner."""
        key = lock_key(origin)
        offset = self._db_offset()
        deadline = None if timeout is None else self._clock() + timeout
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            span = delay + guard_for(delay)
            # Waiting for another worker's turn: bounded by the deadline (PostgreSQL's
            # lock_timeout, for this statement only; 0 means no limit).
            limit = "0" if timeout is None else f"{max(1, int(timeout * 1000))}ms"
            try:
                start = conn.execute(_TAKE, {"origin": origin, "key": key, "span": span,
                                             "lock_timeout": limit}).scalar_one()
            except sa.exc.OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                    raise
                raise FetchError(f"deadline reached waiting for the turn of {origin}",
                                 url=origin) from None
            target = start - offset  # on this machine's clock
            wait = target - self._clock()
            if deadline is not None and target > deadline:
                raise FetchError(f"deadline reached before the turn of {origin}", url=origin)
            if wait > 0:
                self._sleep(wait)
                if self._clock() < target - 0.001:  # the sleep was cut short: stopping
                    raise FetchError(f"stopped while waiting for the turn of {origin}",
                                     url=origin)
                # Should this worker die during its request, the next one keeps away from
                # when it was sent, not from when it was planned.
                conn.execute(_STAMP, {"origin": origin, "span": span})
        except BaseException:
            try:
                conn.execute(_UNLOCK, {"key": key})
            finally:
                conn.close()
            raise
        return _Turn(conn, origin, key, delay)

    def _db_offset(self) -> float:
        """The database clock minus ours, as a lower bound: a time on the database's clock
        turned into ours with it is never early, at most a round trip late. Measured on the
        quickest of a few round trips, and again every CLOCK_SYNC_EVERY seconds."""
        with self._lock:
            now = self._clock()
            if self._synced_at is not None and now - self._synced_at < CLOCK_SYNC_EVERY:
                return self._offset
            best: tuple[float, float] | None = None
            with self.engine.connect() as conn:
                for _ in range(5):
                    before = self._clock()
                    db = conn.execute(_DB_TIME).scalar_one()
                    after = self._clock()
                    # The database read its clock between `before` and `after` on ours.
                    if best is None or after - before < best[0]:
                        best = (after - before, db - after)
                conn.rollback()
            assert best is not None
            self._offset, self._synced_at = best[1], now
            return self._offset

    def hold_off(self, origin: str, seconds: float) -> None:
        """Nobody requests ``origin`` for ``seconds`` (a Retry-After, a 429)."""
        if seconds <= 0:
            return
        with self.engine.begin() as conn:
            conn.execute(_HOLD_OFF, {"origin": origin, "seconds": seconds})


def create_tables(engine: Engine) -> None:
    coordination.create_all(engine)

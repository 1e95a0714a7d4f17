"""Pure decisions about polling: when to poll a source next, and why.

Nothing here reads a clock, the network or the database: the history and ``now`` come in, a
decision goes out, so each rule is tested with plain values (and ``bench/adaptive.py`` runs the
same function over a simulated month).

Adaptive polling (a source with ``min_interval`` / ``max_interval``) learns a source's cadence from
the times of the items it published:

* **when in the day it publishes**: items are counted per hour of the day in the source's
  timezone, over the last :data:`WINDOW`. Each hour's rate is smoothed toward the source's daily
  average, so a quiet hour is never taken for a certain silence;
* **whether it publishes in bursts**: when most items come within :data:`BURST_GAP` of another,
  a fresh item means more are coming, and the source is polled at ``min_interval`` until the
  burst has been quiet for :data:`BURST_GAP`.

The next poll is the moment by which :data:`EXPECTED_ITEMS` new items are expected, within
``[min_interval, max_interval]``: sooner in the source's busy hours, later at night and for
sources that publish a few times a week, ``max_interval`` for a source that has gone quiet.
Counting items (not stories) weighs each hour by the delay its subscribers would see.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

__all__ = ["Cadence", "PollPlan", "learn", "next_poll", "shape_changed", "url_shape"]

#: How far back the history counts.
WINDOW = timedelta(days=28)
#: Items this close to the one before belong to the same story burst.
BURST_GAP = timedelta(minutes=20)
#: Share of items followed by another within BURST_GAP that makes a source bursty.
BURSTY_SHARE = 0.4
#: Poll when this many new items are expected since now (a trade of requests for delay; see
#: bench/adaptive.py for the figures it gives).
EXPECTED_ITEMS = 0.3
#: Share of a source's daily average rate that every hour keeps (smoothing).
FLOOR_SHARE = 0.15
#: Fewer items than this in the window: not enough to learn from.
MIN_ITEMS = 3
#: Until enough is known, poll this often (within the source's bounds).
LEARNING_INTERVAL = timedelta(minutes=30)
_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Cadence:
    """What the history says about a source (see :func:`learn`)."""

    items: int  # items in the window
    days: float  # days of history the rates are over
    per_hour: tuple[float, ...]  # expected new items in each hour of the day (source tz)
    bursty: bool
    last: datetime | None  # the newest item

    @property
    def per_day(self) -> float:
        return sum(self.per_hour)


@dataclass(frozen=True, slots=True)
class PollPlan:
    """When to poll next and why (``feeder status`` prints the reason)."""

    at: datetime
    reason: str


def learn(history: Sequence[datetime], now: datetime, tz: ZoneInfo,
          watched_since: datetime | None = None) -> Cadence:
    """The cadence of a source from the publication times of its items. Pure.

    ``watched_since`` (when the source was first polled) lengthens the observed span of a source
    with few items: three items seen in three weeks of watching are rarer than three in a day.
    """
    start = now - WINDOW
    times = sorted(t for t in history if start <= t <= now)
    oldest = times[0] if times else now
    if watched_since is not None:
        oldest = min(oldest, max(watched_since, start))
    days = max((now - oldest).total_seconds() / 86400, 1.0)
    offset = now.astimezone(tz).utcoffset() or timedelta(0)
    counts = [0] * 24
    followed = 0
    previous: datetime | None = None
    for t in times:
        if previous is not None and t - previous <= BURST_GAP:
            followed += 1
        counts[int(((t + offset).timestamp() // _HOUR) % 24)] += 1
        previous = t
    floor = FLOOR_SHARE * len(times) / 24
    per_hour = tuple(((1 - FLOOR_SHARE) * c + floor) / days for c in counts)
    bursty = len(times) >= MIN_ITEMS and followed / len(times) >= BURSTY_SHARE
    return Cadence(len(times), days, per_hour, bursty, times[-1] if times else None)


def next_poll(history: Sequence[datetime], now: datetime, *, tz: ZoneInfo,
              min_interval: timedelta, max_interval: timedelta,
              watched_since: datetime | None = None) -> PollPlan:
    """When to poll a source next, from the times its items were published and ``now``. Pure.

    ``history`` holds publication times (first-seen times for undated items), in any order.
    """
    cadence = learn(history, now, tz, watched_since)

    def plan(wait: timedelta, reason: str) -> PollPlan:
        wait = min(max(wait, min_interval), max_interval)
        return PollPlan(now + wait, f"{reason}; next in {_duration(wait)}")

    watched = watched_since is not None and now - watched_since >= timedelta(days=1)
    if cadence.items < MIN_ITEMS and not watched:
        return plan(LEARNING_INTERVAL, f"learning the cadence ({cadence.items} item(s) so far)")
    if cadence.items == 0:
        return plan(max_interval, f"no new item in {int(WINDOW.days)} days")
    if cadence.bursty and cadence.last is not None and now - cadence.last <= BURST_GAP:
        return plan(min_interval, "in a burst: the last item came "
                                  f"{_duration(now - cadence.last)} ago")
    wait = _until_expected(cadence.per_hour, now, tz, EXPECTED_ITEMS, max_interval)
    busiest = max(range(24), key=lambda h: cadence.per_hour[h])
    return plan(wait, f"{cadence.per_day:.1f} items a day, busiest {busiest:02d}-"
                      f"{(busiest + 1) % 24:02d} h; {EXPECTED_ITEMS:g} expected by then")


def _until_expected(per_hour: Sequence[float], now: datetime, tz: ZoneInfo, target: float,
                    limit: timedelta) -> timedelta:
    """How long from ``now`` until ``target`` items are expected, walking hour by hour."""
    offset = (now.astimezone(tz).utcoffset() or timedelta(0)).total_seconds()
    local = now.timestamp() + offset
    waited, expected = 0.0, 0.0
    end = limit.total_seconds()
    while waited < end:
        hour = int(((local + waited) // _HOUR) % 24)
        left_in_hour = _HOUR - (local + waited) % _HOUR
        rate = per_hour[hour] / _HOUR  # items per second in this hour
        if rate > 0 and expected + rate * left_in_hour >= target:
            return timedelta(seconds=waited + (target - expected) / rate)
        expected += rate * left_in_hour
        waited += left_in_hour
    return limit


def _duration(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"


# -- has a source changed shape? -------------------------------------------------------------

#: Articles seen before the latest poll that make a source's URL shapes known.
SHAPE_KNOWN = 10
#: New articles in the latest poll needed to judge a change.
SHAPE_RECENT = 3
_DIGITS = re.compile(r"\d+")
_WORDS = re.compile(r"[^\W\d_]+(?:[-_][^\W\d_]+)*")


def url_shape(url: str) -> str:
    """The shape of an article URL: folders as ``w`` (words) or ``9`` (numbers), the last part
    with its words and numbers folded (``/thoi-su/khoi-to-10262.html`` -> ``w/w-9.html``)."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if not segments:
        return ""
    folders = ["9" if _DIGITS.search(s) else "w" for s in segments[:-1]]
    stem, dot, extension = segments[-1].rpartition(".")
    if not dot or not extension.isalnum() or len(extension) > 5:
        stem, dot, extension = segments[-1], "", ""
    leaf = _WORDS.sub("w", _DIGITS.sub("9", stem)) + dot + extension.lower()
    return "/".join([*folders, leaf])


def shape_changed(known: Sequence[str], recent: Sequence[str]) -> bool:
    """True when a poll's new article URLs (``recent``) all have shapes none of the source's
    earlier articles (``known``) had: the site moved its articles, or discovery now follows
    something else (tags, a new menu). Pure; needs enough of both to judge."""
    if len(known) < SHAPE_KNOWN or len(recent) < SHAPE_RECENT:
        return False
    shapes = {url_shape(u) for u in known}
    return not any(url_shape(u) in shapes for u in recent)

"""Adaptive polling against fixed 15-minute polling, over a simulated month (issue 12).

200 simulated sources with known publishing patterns, in Asia/Ho_Chi_Minh:

* hourly at daytime (80): one item an hour, 06:00-22:00, at a random minute, an hour skipped now
  and then;
* bursty (40): two to four bursts a day between 05:00 and 23:00, each of 4-10 items 2-6 min apart;
* a few a week (50): two to five items a week at random daytime hours;
* dead (30): nothing.

Each source is polled from a week of known history on (the items its listing showed on the first
poll) through 30 days, either every 15 minutes (the anchor) or when ``feeder.policy.next_poll`` --
the very function the scheduler calls -- says, with ``min_interval`` 5 min and ``max_interval``
6 h. A poll at ``t`` sees every item published by ``t``; an item's delay is the time from its
publication to the first poll that sees it. Prints requests made and the median and 95th
percentile delay for both, and the ratios; exit status 1 when adaptive polling misses the target
(at least 50 % fewer requests with a median delay no worse).

    .venv/bin/python bench/adaptive.py [--sources 200] [--days 30] [--seed 12]
"""

from __future__ import annotations

import argparse
import bisect
import random
import statistics
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feeder.policy import next_poll

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 3, 2, tzinfo=TZ)  # a Monday
HISTORY_DAYS = 7
FIXED = timedelta(minutes=15)
MIN_INTERVAL, MAX_INTERVAL = timedelta(minutes=5), timedelta(hours=6)

Pattern = Callable[[random.Random, datetime, int], list[datetime]]


def _at(day: datetime, hour: float) -> datetime:
    return day + timedelta(hours=hour)


def hourly_daytime(rng: random.Random, start: datetime, days: int) -> list[datetime]:
    out = []
    for d in range(days):
        day = start + timedelta(days=d)
        for hour in range(6, 22):
            if rng.random() > 0.1:
                out.append(_at(day, hour + rng.random()))
    return out


def bursty(rng: random.Random, start: datetime, days: int) -> list[datetime]:
    out = []
    for d in range(days):
        day = start + timedelta(days=d)
        for _ in range(rng.randint(2, 4)):
            t = _at(day, rng.uniform(5, 23))
            for _ in range(rng.randint(4, 10)):
                out.append(t)
                t += timedelta(minutes=rng.uniform(2, 6))
    return sorted(out)


def few_a_week(rng: random.Random, start: datetime, days: int) -> list[datetime]:
    out = []
    for week in range(0, days, 7):
        for _ in range(rng.randint(2, 5)):
            out.append(_at(start + timedelta(days=week + rng.randrange(7)), rng.uniform(7, 20)))
    return sorted(t for t in out if t < start + timedelta(days=days))


def dead(rng: random.Random, start: datetime, days: int) -> list[datetime]:
    return []


PATTERNS: tuple[tuple[str, Pattern, float], ...] = (
    ("hourly at daytime", hourly_daytime, 0.40),
    ("bursty", bursty, 0.20),
    ("a few a week", few_a_week, 0.25),
    ("dead", dead, 0.15),
)


def delays(items: list[datetime], polls: list[datetime], since: datetime) -> list[float]:
    """Minutes from each item published after ``since`` to the first poll at or after it."""
    out = []
    for t in items:
        if t <= since:
            continue
        i = bisect.bisect_left(polls, t)
        if i < len(polls):
            out.append((polls[i] - t).total_seconds() / 60)
    return out


def fixed_polls(rng: random.Random, begin: datetime, end: datetime) -> list[datetime]:
    t = begin + timedelta(seconds=rng.uniform(0, FIXED.total_seconds()))
    out = []
    while t < end:
        out.append(t)
        t += FIXED
    return out


def adaptive_polls(items: list[datetime], begin: datetime, end: datetime,
                   watched_since: datetime) -> list[datetime]:
    out = []
    t = begin
    while t < end:
        out.append(t)
        known = items[:bisect.bisect_right(items, t)]
        t = next_poll(known, t.astimezone(UTC), tz=TZ, min_interval=MIN_INTERVAL,
                      max_interval=MAX_INTERVAL, watched_since=watched_since).at
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    begin = START + timedelta(days=HISTORY_DAYS)
    end = begin + timedelta(days=args.days)
    totals = {"fixed": [0, []], "adaptive": [0, []]}  # requests, delays (min)
    by_pattern: dict[str, dict[str, list]] = {}
    n_done = 0
    for name, pattern, share in PATTERNS:
        count = round(args.sources * share) if name != PATTERNS[-1][0] \
            else args.sources - n_done
        n_done += count
        row = by_pattern.setdefault(name, {"fixed": [0, []], "adaptive": [0, []], "n": [count]})
        for _ in range(count):
            items = [t.astimezone(UTC) for t in
                     pattern(rng, START, HISTORY_DAYS + args.days)]
            start_at = begin + timedelta(seconds=rng.uniform(0, 900))
            for mode, polls in (
                    ("fixed", fixed_polls(rng, begin, end)),
                    ("adaptive", adaptive_polls(items, start_at, end, START))):
                d = delays(items, polls, begin)
                for bucket in (totals[mode], row[mode]):
                    bucket[0] += len(polls)
                    bucket[1] += d

    def line(label: str, data: list) -> str:
        requests, d = data
        if not d:
            return f"  {label:9} requests {requests:>7}   (no item published)"
        return (f"  {label:9} requests {requests:>7}   delay median {statistics.median(d):6.1f}"
                f" min   p95 {percentile(d, 0.95):6.1f} min   items {len(d)}")

    print(f"bench/adaptive: {args.sources} sources, {args.days} simulated days, "
          f"min {MIN_INTERVAL}, max {MAX_INTERVAL}, seed {args.seed}")
    for name, row in by_pattern.items():
        print(f"{name} ({row['n'][0]} sources)")
        print(line("fixed 15m", row["fixed"]))
        print(line("adaptive", row["adaptive"]))
    fixed_req, fixed_d = totals["fixed"]
    adapt_req, adapt_d = totals["adaptive"]
    print("all sources")
    print(line("fixed 15m", totals["fixed"]))
    print(line("adaptive", totals["adaptive"]))
    fewer = 1 - adapt_req / fixed_req
    median_ratio = statistics.median(adapt_d) / statistics.median(fixed_d)
    p95_ratio = percentile(adapt_d, 0.95) / percentile(fixed_d, 0.95)
    print(f"adaptive / fixed: requests x{adapt_req / fixed_req:.2f} ({fewer:.0%} fewer), "
          f"median delay x{median_ratio:.2f}, p95 delay x{p95_ratio:.2f}")
    ok = fewer >= 0.5 and median_ratio <= 1.0
    print("target (>= 50% fewer requests, median delay no worse):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Each source's recent activity as an inline SVG chart for ``index.html``: items per day over the
last 30 days, the days with failed polls marked, and how long since the last new item.

Everything here is a pure function of what the store holds, so the page keeps its bytes while
nothing changes: the 30 days end on the source's last *polled* day (data), never on the build
clock, and "how long since the last item" is counted in whole days up to that same day, printed
beside the item's absolute date. A new day of polling moves the window, a failure marks a day,
a new article adds to a bar; nothing else does.

The chart needs no script and no stylesheet: it is ``role="img"`` with a ``<title>`` and a
``<desc>`` (named by ``aria-labelledby``) that say in words what the bars show, and each bar and
mark carries its own ``<title>`` (a tooltip in browsers, read by screen readers).
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

#: Days the chart covers.
WINDOW_DAYS = 30
#: Newest articles whose gaps make a source's "usual gap".
RECENT_ITEMS = 20
#: Quiet for longer than this many usual gaps (and at least QUIET_MIN_DAYS): highlighted.
QUIET_FACTOR = 4
QUIET_MIN_DAYS = 2

_BAR, _GAP, _TOP, _BARS_H, _MARK_Y = 7, 2, 2, 34, 44
WIDTH = WINDOW_DAYS * (_BAR + _GAP) + _GAP
HEIGHT = 50


@dataclass(frozen=True, slots=True)
class Activity:
    """One source's last WINDOW_DAYS days, oldest day first."""

    source: str
    end: date | None  # the last day the source was polled (its own zone); None: never polled
    items: tuple[int, ...] = ()  # articles dated on each day
    failures: tuple[int, ...] = ()  # failed polls on each day
    last_item: datetime | None = None  # the newest article's date, in the source's zone
    usual_gap: timedelta | None = None  # median gap between its recent articles

    @property
    def days(self) -> list[date]:
        if self.end is None:
            return []
        return _window(self.end)

    @property
    def quiet_days(self) -> int | None:
        """Whole days from the last new item to the last poll (None without both)."""
        if self.end is None or self.last_item is None:
            return None
        return max(0, (self.end - self.last_item.date()).days)

    @property
    def quiet(self) -> bool:
        """Silent for much longer than the source's usual gap between articles."""
        days, gap = self.quiet_days, self.usual_gap
        if days is None or gap is None or days < QUIET_MIN_DAYS:
            return False
        return timedelta(days=days) > gap * QUIET_FACTOR


def _window(end: date) -> list[date]:
    """The WINDOW_DAYS days ending on ``end``, oldest first."""
    return [end - timedelta(days=WINDOW_DAYS - 1 - i) for i in range(WINDOW_DAYS)]


def activity_from(source: str, tz: ZoneInfo, failures_by_day: Mapping[str, int],
                  dates: Sequence[datetime]) -> Activity:
    """Build the :class:`Activity` from the store's rows (see ``Store.activity``). Pure."""
    local = sorted(d.astimezone(tz) for d in dates)
    last_item = local[-1] if local else None
    recent = local[-RECENT_ITEMS:]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(recent)]
    gap = timedelta(seconds=statistics.median(gaps)) if gaps else None
    if not failures_by_day:
        return Activity(source, None, last_item=last_item, usual_gap=gap)
    end = date.fromisoformat(max(failures_by_day))
    per_day = Counter(d.date() for d in local)
    days = _window(end)
    return Activity(
        source, end,
        items=tuple(per_day.get(d, 0) for d in days),
        failures=tuple(failures_by_day.get(d.isoformat(), 0) for d in days),
        last_item=last_item, usual_gap=gap)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe(a: Activity) -> str:
    """The chart in words (its ``<desc>``)."""
    if a.end is None:
        return "Not polled yet: no activity to show."
    days = a.days
    total = sum(a.items)
    text = f"{_plural(total, 'item')} from {days[0]} to {days[-1]}"
    if total:
        most = max(a.items)
        text += f"; most on {days[a.items.index(most)]} ({most})"
    failed = [d for d, f in zip(days, a.failures, strict=True) if f]
    if failed:
        text += f"; failed polls on {_plural(len(failed), 'day')}: " + ", ".join(
            str(d) for d in failed)
    else:
        text += "; no failed poll"
    return text + "."


def svg(a: Activity, name: str) -> str:
    """The inline ``<svg>`` of one source's activity; ``name`` is the source's display name."""
    ident = f"chart-{a.source}"
    title = f"{name}: items per day, last {WINDOW_DAYS} days"
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(describe(a))}</desc>',
        f'<line x1="0" y1="{_TOP + _BARS_H + 0.5}" x2="{WIDTH}" y2="{_TOP + _BARS_H + 0.5}" '
        'stroke="#bbb"/>',
    ]
    peak = max(a.items, default=0) or 1
    for i, (day, n, failed) in enumerate(zip(a.days, a.items, a.failures, strict=True)):
        x = _GAP + i * (_BAR + _GAP)
        if n:
            h = max(2, round(n / peak * _BARS_H))
            parts.append(f'<rect class="bar" x="{x}" y="{_TOP + _BARS_H - h}" width="{_BAR}" '
                         f'height="{h}" fill="#2a6ebb"><title>{day}: '
                         f'{_plural(n, "item")}</title></rect>')
        if failed:
            cx = x + _BAR / 2
            parts.append(f'<path class="failed" d="M{cx} {_MARK_Y - 4}l4 7h-8z" fill="#c00">'
                         f'<title>{day}: {_plural(failed, "failed poll")}</title></path>')
    parts.append("</svg>")
    return "".join(parts)


def since_html(a: Activity) -> str:
    """"Last new item 2020-12-30 07:30 (+0700), 3 days before the last poll": absolute date, and
    the distance in whole days to the last polled day, both from the data."""
    if a.last_item is None:
        return '<span class="since">no article yet</span>'
    when = a.last_item.strftime("%Y-%m-%d %H:%M (%z)")
    days = a.quiet_days
    if days is None:
        rel = ""
    elif days == 0:
        rel = ", the day of the last poll"
    else:
        rel = f", {_plural(days, 'day')} before the last poll ({a.end})"
    text = f"last new item {when}{rel}"
    if a.quiet and a.usual_gap is not None:
        hours = a.usual_gap.total_seconds() / 3600
        usual = f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
        return (f'<span class="since quiet"><strong>quiet</strong>: {escape(text)} '
                f"(usually every {usual})</span>")
    return f'<span class="since">{escape(text)}</span>'

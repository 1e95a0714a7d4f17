"""Adaptive polling is a pure function of the history and now (feeder.policy), and the scheduler
and `feeder status` use it for sources with min_interval / max_interval."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feeder.config import Source
from feeder.policy import LEARNING_INTERVAL, next_poll, shape_changed, url_shape
from feeder.schedule import plan_poll

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MIN, MAX = timedelta(minutes=5), timedelta(hours=6)
MONDAY = datetime(2026, 3, 2, tzinfo=VN)


def hourly_daytime(days: int = 14) -> list[datetime]:
    """An item at 25 past every hour from 06:00 to 21:59, local time, for ``days`` days."""
    return [MONDAY + timedelta(days=d, hours=h, minutes=25)
            for d in range(days) for h in range(6, 22)]


def plan(history: list[datetime], now: datetime, **kw: object):  # type: ignore[no-untyped-def]
    return next_poll(history, now, tz=VN, min_interval=MIN, max_interval=MAX, **kw)


def test_busy_hours_are_polled_often_and_nights_seldom() -> None:
    history = hourly_daytime()
    day = MONDAY + timedelta(days=14)
    morning = plan(history, day + timedelta(hours=9, minutes=30))
    night = plan(history, day + timedelta(hours=22, minutes=30))
    morning_wait = morning.at - (day + timedelta(hours=9, minutes=30))
    night_wait = night.at - (day + timedelta(hours=22, minutes=30))
    assert MIN <= morning_wait <= timedelta(minutes=30), morning
    assert night_wait >= timedelta(hours=3), night
    assert "busiest" in morning.reason and "15.9 items a day" in morning.reason


def test_publishing_hours_are_read_in_the_source_timezone() -> None:
    """The same instants, most of them at 08:xx in Vietnam (01:xx UTC): the busy hour is told in
    the source's own zone."""
    history = hourly_daytime() + [MONDAY + timedelta(days=d, hours=8, minutes=40)
                                  for d in range(14)]
    now = MONDAY + timedelta(days=14, hours=9, minutes=30)
    assert "busiest 08-09 h" in plan(history, now).reason
    utc = next_poll(history, now, tz=ZoneInfo("UTC"), min_interval=MIN, max_interval=MAX)
    assert "busiest 01-02 h" in utc.reason


def test_a_burst_is_followed_at_the_minimum() -> None:
    bursts = [MONDAY + timedelta(days=d, hours=h, minutes=4 * i)
              for d in range(10) for h in (8, 15) for i in range(6)]
    now = MONDAY + timedelta(days=10, hours=11)
    fresh = [*bursts, now - timedelta(minutes=3)]
    assert plan(fresh, now).at == now + MIN
    assert "in a burst" in plan(fresh, now).reason
    # The same item for a source that does not publish in bursts is no reason to hurry.
    assert plan([*hourly_daytime(), now - timedelta(minutes=3)], now).at > now + MIN


def test_quiet_and_new_sources() -> None:
    now = MONDAY + timedelta(days=30)
    dead = plan([], now, watched_since=now - timedelta(days=10))
    assert dead.at == now + MAX and "no new item" in dead.reason
    new = plan([], now, watched_since=now - timedelta(hours=1))
    assert new.at == now + LEARNING_INTERVAL and "learning" in new.reason
    # Three items in three weeks: long waits, never past the maximum.
    rare = plan([now - timedelta(days=d) for d in (2, 9, 16)], now,
                watched_since=now - timedelta(days=21))
    assert rare.at == now + MAX


@pytest.mark.parametrize("hour", range(0, 24, 3))
def test_always_within_the_bounds_and_repeatable(hour: int) -> None:
    history = hourly_daytime() + [MONDAY + timedelta(days=13, hours=12, minutes=m)
                                  for m in range(0, 30, 3)]
    now = (MONDAY + timedelta(days=14, hours=hour)).astimezone(UTC)
    first = plan(history, now)
    assert now + MIN <= first.at <= now + MAX
    assert plan(list(reversed(history)), now) == first  # order of the history does not matter


def test_fixed_and_failing_sources() -> None:
    now = datetime(2026, 3, 2, 5, tzinfo=UTC)
    fixed = Source(id="a", name="A", urls=("https://a.vn/",), interval=timedelta(minutes=15))
    assert plan_poll(fixed, 0, now).at == now + timedelta(minutes=15)
    adaptive = Source(id="b", name="B", urls=("https://b.vn/",), interval=MIN,
                      min_interval=MIN, max_interval=MAX)
    failing = plan_poll(adaptive, 2, now)
    assert failing.at == now + 4 * MIN and "failure" in failing.reason


def test_status_shows_the_next_poll_and_why(tmp_path: Path) -> None:
    """An adaptive source polled once: `feeder status` prints when and why, from the store."""
    from feeder.config import load
    from feeder.model import Article, CacheInfo
    from feeder.store import Intent, Store

    cfg_file = tmp_path / "feeder.toml"
    cfg_file.write_text('[feeder]\ndatabase = "f.db"\n[[sources]]\nid = "nhanh"\n'
                        'url = "https://a.vn/"\nmin_interval = "5m"\nmax_interval = "4h"\n',
                        encoding="utf-8")
    cfg = load(cfg_file)
    store = Store(cfg.settings.database)
    now = datetime.now(UTC)
    intents = [Intent("new", Article(url=f"https://a.vn/tin-{i}.html", title=f"Tin {i}",
                                     published=now - timedelta(hours=i)), f"https://a.vn/{i}")
               for i in range(1, 40)]
    store.apply("nhanh", intents, listings=[("https://a.vn/", CacheInfo())])
    store.record_poll("nhanh", ok=True, error=None, found_links=True,
                      next_due=now + timedelta(minutes=20), now=now)
    store.close()
    out = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg_file), "status",
                          "--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)
    assert "items a day" in row["next_poll_reason"], row
    text = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg_file), "status"],
                          capture_output=True, text=True, timeout=60).stdout
    assert "next poll: " in text and "items a day" in text


def test_url_shapes() -> None:
    assert url_shape("https://a.vn/thoi-su/khoi-to-doi-tuong-10262.html") == "w/w-9.html"
    assert url_shape("https://a.vn/kinh-te/lua-thu-dong-10241.html") == "w/w-9.html"
    assert url_shape("https://a.vn/news/2024/06/02/lua-thu-dong") == "w/9/9/9/w"
    old = [f"https://a.vn/thoi-su/tin-so-{i}.html" for i in range(12)]
    assert shape_changed(old, [f"https://a.vn/tin/2024/06/bai-{i}" for i in range(4)])
    assert not shape_changed(old, [f"https://a.vn/kinh-te/bai-{i}.html" for i in range(4)])
    assert not shape_changed(old[:5], [f"https://a.vn/tin/2024/06/bai-{i}" for i in range(4)])


def test_status_flags_a_source_whose_links_changed_shape(tmp_path: Path) -> None:
    from feeder import clock
    from feeder.config import load
    from feeder.model import Article
    from feeder.store import Intent, Store

    cfg_file = tmp_path / "feeder.toml"
    cfg_file.write_text('[feeder]\ndatabase = "f.db"\n'
                        '[[sources]]\nid = "doi"\nurl = "https://a.vn/"\n'
                        '[[sources]]\nid = "van"\nurl = "https://b.vn/"\n', encoding="utf-8")
    store = Store(load(cfg_file).settings.database)

    def add(source: str, urls: list[str]) -> None:
        store.apply(source, [Intent("new", Article(url=u, title=u, published=clock.now()), u)
                             for u in urls])
        store.record_poll(source, ok=True, error=None, found_links=True,
                          next_due=clock.now() + timedelta(minutes=30))

    clock.freeze(datetime(2026, 3, 2, 8, tzinfo=UTC))
    add("doi", [f"https://a.vn/thoi-su/tin-so-{i}.html" for i in range(12)])
    add("van", [f"https://b.vn/thoi-su/tin-so-{i}.html" for i in range(12)])
    clock.freeze(datetime(2026, 3, 2, 9, tzinfo=UTC))
    add("doi", [f"https://a.vn/tin/2026/03/bai-moi-{i}" for i in range(4)])
    add("van", [f"https://b.vn/kinh-te/bai-moi-{i}.html" for i in range(4)])
    store.close()
    clock.freeze(None)
    out = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg_file), "status",
                          "--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    flags = {row["source"]: row["links_changed_shape"] for row in json.loads(out.stdout)}
    assert flags == {"doi": True, "van": False}
    text = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg_file), "status"],
                          capture_output=True, text=True, timeout=60).stdout
    assert "new URL shape" in text and "`feeder probe https://a.vn/` suggests a fix" in text

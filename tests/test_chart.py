"""The index page's per-source charts: items per day over 30 days, failed polls marked, the time
since the last new item, quiet sources highlighted; from the store, byte-stable while nothing
changes. tests/test_site_browser.py looks at the page in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from feeder import clock
from feeder.config import Config, Settings, Source
from feeder.fetch import Fetcher
from feeder.model import Article
from feeder.pipeline import Poller
from feeder.publish import chart
from feeder.store import Intent, Store
from tests.support.http import LoopbackServer
from tests.support.site import article_html, listing_html
from tests.test_publish_fixtures import BASE_URL, VN, article

SVG = "{http://www.w3.org/2000/svg}"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
DAY0 = datetime(2021, 3, 1, 9, 0, tzinfo=VN)  # the first polled day

BUSY = Source(id="busy", name="Báo Bận Rộn", urls=("https://busy.example.vn/",), max_items=40)
FLAKY = Source(id="flaky", name="Báo Chập Chờn", urls=("https://flaky.example.vn/",))
QUIET = Source(id="quiet", name="Báo Im Lặng", urls=("https://quiet.example.vn/",))
SOURCES = (BUSY, FLAKY, QUIET)


def test_activity_counts_days_in_the_source_zone_and_ends_on_the_last_polled_day() -> None:
    polled = {"2021-03-28": 0, "2021-03-29": 2, "2021-03-30": 0}
    dates = [datetime(2021, 3, 29, 17, 30, tzinfo=UTC),  # 00:30 on the 30th in Hồ Chí Minh
             datetime(2021, 3, 29, 16, 30, tzinfo=UTC),  # 23:30 on the 29th
             datetime(2021, 3, 1, 2, 0, tzinfo=UTC),  # the window's first day
             datetime(2021, 2, 28, 2, 0, tzinfo=UTC)]  # before the window: no bar
    a = chart.activity_from("x", HCM, polled, dates)
    assert a.end == date(2021, 3, 30) and a.days[0] == date(2021, 3, 1)
    assert len(a.items) == len(a.failures) == chart.WINDOW_DAYS
    assert (a.items[-1], a.items[-2], a.items[0], sum(a.items)) == (1, 1, 1, 3)
    assert a.failures[-2] == 2 and sum(a.failures) == 2
    assert a.last_item == datetime(2021, 3, 30, 0, 30, tzinfo=HCM)
    assert a.quiet_days == 0 and not a.quiet
    text = chart.describe(a)
    assert "3 items from 2021-03-01 to 2021-03-30" in text
    assert "failed polls on 1 day: 2021-03-29" in text


def test_quiet_means_much_longer_than_the_usual_gap() -> None:
    every_6h = [datetime(2021, 3, 1, tzinfo=UTC) + timedelta(hours=6 * n) for n in range(20)]
    last_day = every_6h[-1].astimezone(HCM).date()

    def after(days: int) -> chart.Activity:
        end = (last_day + timedelta(days=days)).isoformat()
        return chart.activity_from("x", HCM, {end: 0}, every_6h)

    assert after(0).usual_gap == timedelta(hours=6)
    assert not after(1).quiet  # a day without news is not yet worth a highlight
    assert after(2).quiet and after(2).quiet_days == 2
    html = chart.since_html(after(3))
    assert "quiet" in html and "3 days before the last poll" in html and "every 6 h" in html
    # A source that posts weekly is not quiet after three days.
    weekly = [datetime(2021, 1, 1, tzinfo=UTC) + timedelta(days=7 * n) for n in range(10)]
    end = (weekly[-1] + timedelta(days=3)).date().isoformat()
    assert not chart.activity_from("w", HCM, {end: 0}, weekly).quiet


def test_svg_is_accessible_and_the_same_for_the_same_data() -> None:
    a = chart.activity_from("busy", HCM, {"2021-03-30": 1},
                            [datetime(2021, 3, 30, 1, 0, tzinfo=UTC)])
    svg = etree.fromstring(chart.svg(a, "Báo <Bận>"))
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text == "Báo <Bận>: items per day, last 30 days"
    assert len(svg.findall(f"{SVG}rect")) == 1 and len(svg.findall(f"{SVG}path")) == 1
    assert chart.svg(a, "Báo <Bận>") == chart.svg(
        chart.activity_from("busy", HCM, {"2021-03-30": 1},
                            [datetime(2021, 3, 30, 1, 0, tzinfo=UTC)]), "Báo <Bận>")
    never = chart.activity_from("new", HCM, {}, [])
    assert "Not polled yet" in chart.svg(never, "Mới")
    assert "no article yet" in chart.since_html(never)


def _articles(source: Source, first: datetime, every: timedelta, count: int) -> list[Article]:
    return [article(source, 100 + n, published=first + every * n, updated=None)
            for n in range(count)]


def fill_store(store: Store, days: int = 30) -> None:
    """30 days of polling three sources, as the real Poller records it: BUSY publishes about
    every 7 hours, FLAKY daily but fails to poll on some days, QUIET stopped on day 12."""
    for source, arts in ((BUSY, _articles(BUSY, DAY0, timedelta(hours=7), 100)),
                         (FLAKY, _articles(FLAKY, DAY0, timedelta(days=1), days)),
                         (QUIET, _articles(QUIET, DAY0, timedelta(hours=8), 36))):
        store.apply(source.id, [Intent("new", a, a.url) for a in arts if a.published
                                and a.published < DAY0 + timedelta(days=days)])
    for day in range(days):
        when = (DAY0 + timedelta(days=day)).date().isoformat()
        for source in SOURCES:
            for poll in range(3):
                failed = source is FLAKY and day % 7 == 3 and poll < 2
                store.count_poll(source.id, when, ok=not failed)


@contextmanager
def poller(tmp_path: Path, database_url: str) -> Iterator[Poller]:
    settings = Settings(out=tmp_path / "public", base_url=BASE_URL, database=database_url)
    store = Store(database_url)
    try:
        with Fetcher(settings) as fetcher:
            yield Poller(Config(settings, SOURCES), store, fetcher)
    finally:
        store.close()


def charts(page: bytes) -> dict[str, etree._Element]:
    """Each inline chart of the page by source id, parsed as the XML it also is."""
    found = {}
    for snippet in re.findall(rb"<svg .*?</svg>", page, flags=re.S):
        svg = etree.fromstring(snippet)
        found[svg.get("aria-labelledby").split()[0].removeprefix("chart-")
              .removesuffix("-t")] = svg
    return found


def test_index_charts_come_from_the_store_and_keep_their_bytes(tmp_path: Path,
                                                               database_url: str) -> None:
    with poller(tmp_path, database_url) as p:
        fill_store(p.store)
        clock.freeze(datetime(2021, 4, 2, tzinfo=UTC))
        assert str(tmp_path / "public" / "index.html") in p.publish_site()
        index = tmp_path / "public" / "index.html"
        page = index.read_bytes()
        found = charts(page)
        assert set(found) == {"busy", "flaky", "quiet"}
        flaky_marks = found["flaky"].findall(f"{SVG}path")
        assert [m.findtext(f"{SVG}title") for m in flaky_marks] == [
            f"2021-03-{d:02d}: 2 failed polls" for d in (4, 11, 18, 25)]
        assert len(found["busy"].findall(f"{SVG}rect")) == 30 and not found["busy"].findall(
            f"{SVG}path")
        tree = etree.HTML(page)
        quiet_rows = tree.xpath("//tr[@class='quiet']")
        assert [r.xpath("string(td[1])") for r in quiet_rows] == ["Báo Im Lặng"]
        assert "last new item 2021-03-13 01:00 (+0700), 17 days before the last poll " \
               "(2021-03-30)" in " ".join(quiet_rows[0].xpath("string(.)").split())

        # Later, same data: the same bytes, the file not even rewritten (the clock is not in it).
        clock.freeze(datetime(2021, 4, 20, tzinfo=UTC))
        assert str(index) not in p.publish_site()
        assert index.read_bytes() == page
        # A poll on a new day moves the window; a failure marks its day.
        p.store.count_poll(FLAKY.id, "2021-03-31", ok=False)
        assert str(index) in p.publish_site()
        moved = charts(index.read_bytes())
        assert "2021-03-02 to 2021-03-31" in moved["flaky"].findtext(f"{SVG}desc")
        assert moved["flaky"].findall(f"{SVG}path")[-1].findtext(f"{SVG}title") == \
            "2021-03-31: 1 failed poll"


def test_polls_are_counted_per_day_by_the_poller(tmp_path: Path, database_url: str) -> None:
    """Real polls of a loopback site: one that works, one whose listing answers 500."""
    with LoopbackServer() as srv:
        srv.route("/ok/", listing_html([srv.url("/ok/a.html")]))
        srv.route("/ok/a.html", article_html(srv.url("/ok/a.html"), "Tin mới nhất hôm nay"))
        srv.route("/broken/", "down", status=500)
        good = Source(id="good", name="Tốt", urls=(srv.url("/ok/"),))
        bad = Source(id="bad", name="Hỏng", urls=(srv.url("/broken/"),))
        settings = Settings(out=tmp_path / "public", base_url=BASE_URL, database=database_url,
                            host_delay=0.0, respect_robots=False)
        store = Store(database_url)
        clock.freeze(datetime(2021, 3, 1, 20, 0, tzinfo=UTC))  # 03:00 on 2 March in the zone
        with Fetcher(settings, backoff=0.01, max_wait=0.05) as fetcher:
            Poller(Config(settings, (good, bad)), store, fetcher).run_once()
        failures, dates = store.activity(["good", "bad"], chart.WINDOW_DAYS, chart.RECENT_ITEMS)
        store.close()
    assert failures == {"good": {"2021-03-02": 0}, "bad": {"2021-03-02": 1}}
    assert len(dates["good"]) == 1 and dates["bad"] == []
    page = (tmp_path / "public" / "index.html").read_bytes()
    assert set(charts(page)) == {"good", "bad"}


@pytest.fixture
def published_site(tmp_path: Path) -> Path:
    """The three sources' site, published from an SQLite store (for the browser test)."""
    with poller(tmp_path, f"sqlite:///{tmp_path / 'feeder.db'}") as p:
        fill_store(p.store)
        for source in SOURCES:
            p.publish(source, force=True)
        p.publish_site()
    return tmp_path / "public"

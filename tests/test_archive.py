"""RFC 5005 archives: a source with 500 articles over six months, published through the real
Poller into real files, read back by feedparser the way a reader pages back through history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from feeder import clock
from feeder.config import Config, Settings
from feeder.fetch import Fetcher
from feeder.model import Article
from feeder.pipeline import Poller
from feeder.publish.archive import FINISHED_CACHE_CONTROL
from feeder.serve import cache_control, content_type, read_cache_map
from feeder.store import Intent, Store
from tests.test_newsboat import NEWSBOAT, read_with_newsboat
from tests.test_nginx import Nginx, find_nginx, free_port, start_nginx
from tests.test_publish_fixtures import BASE_URL, CA_MAU, VN, article

SOURCE = replace(CA_MAU, max_items=50)
START = datetime(2020, 7, 1, 6, 0, tzinfo=VN)
MONTHS = ["2020-07", "2020-08", "2020-09", "2020-10", "2020-11", "2020-12"]


def history(count: int, start: datetime = START, step: timedelta | None = None,
            first: int = 0) -> list[Article]:
    """``count`` articles, one every ``step`` from ``start`` (default: spread over 6 months)."""
    step = step or (datetime(2020, 12, 31, 20, 0, tzinfo=VN) - start) / (count - 1)
    return [article(SOURCE, 10_000 + first + n, published=start + step * n, updated=None)
            for n in range(count)]


def add(store: Store, articles: list[Article], action: str = "new") -> None:
    store.apply(SOURCE.id, [Intent(action, a, a.url) for a in articles])


@contextmanager
def poller_for(out: Path, database_url: str, base_url: str = BASE_URL,
               hubs: tuple[str, ...] = ()) -> Iterator[Poller]:
    """The real Poller over SOURCE, publishing into ``out``, the clock frozen on 2021-01-01."""
    settings = Settings(out=out, base_url=base_url, database=database_url, hubs=hubs)
    store = Store(database_url)
    clock.freeze(datetime(2021, 1, 1, tzinfo=UTC))
    try:
        with Fetcher(settings) as fetcher:
            yield Poller(Config(settings, (SOURCE,)), store, fetcher)
    finally:
        store.close()


def publish_history(out: Path, database_url: str, base_url: str = BASE_URL,
                    hubs: tuple[str, ...] = ()) -> list[Article]:
    """SOURCE's 500 articles over six months, published with the site files; returns them."""
    articles = history(500)
    with poller_for(out, database_url, base_url, hubs) as poller:
        add(poller.store, articles)
        poller.publish(SOURCE, force=True)
        poller.publish_site()
    return articles


@pytest.fixture
def site(tmp_path: Path, database_url: str) -> Iterator[tuple[Poller, Path]]:
    out = tmp_path / "public"
    with poller_for(out, database_url) as poller:
        yield poller, out


def local(out: Path, url: str) -> Path:
    """The file behind a published URL."""
    assert url.startswith(BASE_URL), url
    return out / urlsplit(url).path.lstrip("/")


def page_back(out: Path, start: str) -> tuple[list[str], list[str]]:
    """Follow prev-archive from the feed ``start``: every entry id met, and the documents read.
    Also checks each archive's fh:archive, self, current and next-archive links on the way."""
    ids: list[str] = []
    docs: list[str] = []
    url: str | None = BASE_URL + start
    newer: str | None = None
    while url:
        parsed = feedparser.parse(local(out, url).read_bytes())
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        links = {ln.rel: ln.href for ln in parsed.feed.links}
        if docs:  # an archive document
            assert links["self"] == url
            assert links["current"] == BASE_URL + start
            assert links.get("next-archive") == (newer if len(docs) > 1 else None)
            assert b"fh:archive" in local(out, url).read_bytes()
        ids += [e.id for e in parsed.entries]
        docs.append(url)
        newer = url if docs[1:] else None
        url = links.get("prev-archive")
    return ids, docs


def add_and_publish(poller: Poller, articles: list[Article]) -> list[Article]:
    add(poller.store, articles)
    poller.publish(SOURCE, force=True)
    return articles


def archive_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / SOURCE.id / "archive").glob("*.xml"))}


def test_500_articles_over_6_months_make_6_archives_read_back_once_each(
        site: tuple[Poller, Path]) -> None:
    poller, out = site
    articles = add_and_publish(poller, history(500))

    assert list(archive_files(out)) == [f"{m}.xml" for m in MONTHS]
    every = sorted(f"urn:uuid:{a.id}" for a in articles)
    for feed in ("atom.xml", "rss.xml"):
        ids, docs = page_back(out, f"{SOURCE.id}/{feed}")
        if feed == "rss.xml":  # RSS guids are the article URLs, the Atom archives' are URNs
            urn = {a.url: f"urn:uuid:{a.id}" for a in articles}
            ids = [urn.get(i, i) for i in ids]
        assert sorted(ids) == every, feed  # every article, none twice
        suffix = ".rss" if feed == "rss.xml" else ".xml"  # each format pages back through its own
        assert [urlsplit(d).path.rsplit("/", 1)[-1] for d in docs[1:]] == \
            [f"{m}{suffix}" for m in reversed(MONTHS)]
    current = feedparser.parse((out / SOURCE.id / "atom.xml").read_bytes())
    assert len(current.entries) == 50
    # Each archive holds exactly its month's articles, dated in the source's zone.
    for name, data in archive_files(out).items():
        parsed = feedparser.parse(data)
        months = {datetime.fromisoformat(e.published).astimezone(SOURCE.tz).strftime("%Y-%m")
                  for e in parsed.entries}
        assert months == {name.removesuffix(".xml")}


def test_finished_months_keep_their_bytes_and_an_edit_rewrites_its_month(
        site: tuple[Poller, Path]) -> None:
    poller, out = site
    articles = add_and_publish(poller, history(500))
    first = archive_files(out)
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / SOURCE.id / "archive").glob("*.xml")}

    assert not [p for p in poller.publish(SOURCE, force=True) if "/archive/" in p]  # a rerun

    # 30 January articles: 30 more December ones leave the feed into December's archive.
    add(poller.store, history(30, datetime(2021, 1, 2, 8, 0, tzinfo=VN), timedelta(hours=5),
                              first=1000))
    written = poller.publish(SOURCE, force=True)
    now = archive_files(out)
    assert {Path(p).name for p in written if p.endswith(".xml")} == {"2020-12.xml", "atom.xml",
                                                                       "rss.xml"}
    assert {k: v for k, v in now.items() if k != "2020-12.xml"} == \
        {k: v for k, v in first.items() if k != "2020-12.xml"}
    assert len(feedparser.parse(now["2020-12.xml"]).entries) > \
        len(feedparser.parse(first["2020-12.xml"]).entries)
    # Enough January articles that January gets an archive: December is then finished.
    add(poller.store, history(60, datetime(2021, 1, 9, 8, 0, tzinfo=VN), timedelta(hours=5),
                              first=2000))
    poller.publish(SOURCE, force=True)
    later = archive_files(out)
    assert "2021-01.xml" in later
    assert b'rel="next-archive"' in later["2020-12.xml"]
    for month in MONTHS[:-1]:  # July to November: written once, never touched again
        assert later[f"{month}.xml"] == first[f"{month}.xml"]
        assert (out / SOURCE.id / "archive" / f"{month}.xml").stat().st_mtime_ns == \
            stamps[f"{month}.xml"]
    # A finished month is cacheable for a year, the one still filling like a feed.
    served = read_cache_map(out)
    assert served[f"/{SOURCE.id}/archive/2020-07.xml"] == FINISHED_CACHE_CONTROL
    assert served[f"/{SOURCE.id}/archive/2020-12.xml"] == FINISHED_CACHE_CONTROL
    newest = out / SOURCE.id / "archive" / "2021-01.xml"
    assert cache_control(newest, served, f"/{SOURCE.id}/archive/2021-01.xml") != \
        FINISHED_CACHE_CONTROL
    assert content_type(newest).startswith("application/atom+xml")

    # An old article is edited: its month's archive shows the edit, the others stay.
    old = articles[100]
    edited = replace(old, title="Bài viết đã sửa", updated=datetime(2021, 1, 3, tzinfo=VN))
    clock.freeze(datetime(2021, 1, 3, 1, 0, tzinfo=UTC))
    add(poller.store, [edited], "updated")
    poller.publish(SOURCE, force=True)
    month = old.published.astimezone(SOURCE.tz).strftime("%Y-%m")  # type: ignore[union-attr]
    final = archive_files(out)
    assert "Bài viết đã sửa" in final[f"{month}.xml"].decode("utf-8")
    assert {k for k in final if final[k] != later[k]} == {f"{month}.xml"}


def test_a_source_whose_feed_holds_everything_has_no_archive(site: tuple[Poller, Path]) -> None:
    poller, out = site
    add(poller.store, history(20))
    poller.publish(SOURCE, force=True)
    assert not (out / SOURCE.id / "archive").exists()
    assert b"prev-archive" not in (out / SOURCE.id / "atom.xml").read_bytes()


def test_nginx_serves_archives_and_newsboat_reads_every_one(tmp_path: Path) -> None:
    """Through deploy's nginx: Atom Content-Type, a year of caching for finished months only;
    newsboat reads every archive with all of its items; the feeds' WebSub Link headers."""
    if find_nginx() is None or NEWSBOAT is None:
        pytest.skip("nginx and newsboat are needed (apt-get install nginx newsboat)")
    out = tmp_path / "public"
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    publish_history(out, f"sqlite:///{tmp_path / 'feeder.db'}", base,
                    hubs=("https://hub.example.org/",))
    proc, port = start_nginx(tmp_path / "nginx", out, port)
    server = Nginx(port, out)
    try:
        # WebSub discovery: the feeds (not the archives) carry the hub and self Link header.
        for name in ("rss.xml", "atom.xml", "feed.json"):
            resp, _ = server.get(f"/{SOURCE.id}/{name}")
            assert resp.getheader("Link") == ('<https://hub.example.org/>; rel="hub", '
                                              f'<{base}{SOURCE.id}/{name}>; rel="self"')
        assert server.get(f"/{SOURCE.id}/archive/2020-07.xml")[0].getheader("Link") is None
        for n, (month, suffix) in enumerate((m, x) for m in MONTHS for x in (".xml", ".rss")):
            path = f"/{SOURCE.id}/archive/{month}{suffix}"
            resp, body = server.get(path)
            assert resp.status == 200
            kind = "atom" if suffix == ".xml" else "rss"
            assert resp.getheader("Content-Type") == f"application/{kind}+xml; charset=utf-8"
            finished = n < 2 * (len(MONTHS) - 1)
            assert (resp.getheader("Cache-Control") == FINISHED_CACHE_CONTROL) == finished, path
            items = read_with_newsboat(server.url(path), tmp_path / "newsboat" / f"{month}{suffix}")
            parsed = feedparser.parse(body)
            assert sorted(str(i["guid"]) for i in items) == sorted(e.id for e in parsed.entries)
            assert len(items) == len(parsed.entries) > 0
    finally:
        proc.terminate()
        proc.wait(10)

"""The three source kinds end to end: a loopback site, a real store, real feed files.

Sitemaps and feeds are polled like listings: conditional GET, no refetch of known articles (and,
with lastmod / feed dates, a changed one refetched without waiting for its edit check), clear
errors for malformed XML, and a truncated feed published as a full-text feed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest

from feeder.config import Config, Settings, Source
from feeder.fetch import Fetcher
from feeder.pipeline import Poller, PollResult
from feeder.store import Store
from tests.support.http import LoopbackServer
from tests.support.site import article_html

NEWS_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" ' \
          'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def news_sitemap(*entries: tuple[str, str]) -> str:
    """A Google News sitemap of (url, publication date) entries."""
    urls = "".join(
        f"<url><loc>{loc}</loc><news:news><news:publication>"
        f"<news:name>Báo Thử</news:name><news:language>vi</news:language></news:publication>"
        f"<news:publication_date>{when}</news:publication_date>"
        f"<news:title>Tin</news:title></news:news></url>\n" for loc, when in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NEWS_NS}>\n{urls}</urlset>\n'


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def config(tmp_path: Path, database_url: str, *sources: Source) -> Config:
    settings = Settings(out=tmp_path / "public", database=database_url, host_delay=0.0,
                        respect_robots=False, base_url="http://127.0.0.1:8080/")
    return Config(settings=settings, sources=sources)


def poll(cfg: Config) -> list[PollResult]:
    store = Store(cfg.settings.database)
    with Fetcher(cfg.settings, backoff=0.01, max_wait=0.05) as fetcher:
        results = Poller(cfg, store, fetcher).run_once()
    store.close()
    return results


def items(cfg: Config, sid: str) -> list[dict]:
    return json.loads((cfg.settings.out / sid / "feed.json").read_text())["items"]


def valid_feeds(cfg: Config, sid: str) -> list:
    entries = []
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((cfg.settings.out / sid / name).read_bytes())
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        entries.append(parsed.entries)
    return entries[0]


def serve_article(site: LoopbackServer, slug: str, title: str, minute: int = 0) -> str:
    path = f"/thoi-su/{slug}.html"
    site.route(path, article_html(site.url(path), title, minute=minute),
               headers={"ETag": f'"{slug}"'})
    return site.url(path)


# -- sitemap ---------------------------------------------------------------------------------

def test_news_sitemap_conditional_get_and_only_new_or_changed_articles(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    from feeder import clock

    a = serve_article(site, "hoi-nghi-tong-ket-1001", "Hội nghị tổng kết năm")
    b = serve_article(site, "khanh-thanh-cau-moi-1002", "Khánh thành cầu mới", minute=30)
    site.route("/sitemap-news.xml", news_sitemap((a, "2020-01-01T07:00:00+07:00"),
                                                 (b, "2020-01-01T07:30:00+07:00")),
               headers={"ETag": '"s1"', "Content-Type": "application/xml"})
    src = Source(id="tin", name="Báo Thử", kind="sitemap", urls=(site.url("/sitemap-news.xml"),))
    cfg = config(tmp_path, database_url, src)

    [r1] = poll(cfg)
    assert (r1.status, r1.new) == ("ok", 2), r1
    assert {e.title for e in valid_feeds(cfg, "tin")} == {"Hội nghị tổng kết năm",
                                                          "Khánh thành cầu mới"}

    # Unchanged sitemap: one conditional request, a 304, no article fetched.
    before = len(site.requests)
    [r2] = poll(cfg)
    assert r2.status == "not-modified", r2
    assert site.requests[before:][0].headers.get("If-None-Match") == '"s1"'
    assert len(site.requests) == before + 1

    # Two hours on (edit checks of a and b are due): a third article appears and b's lastmod
    # moves. Only the new one and the changed one are fetched; a is left alone.
    clock.freeze(clock.now() + timedelta(hours=2))
    c = serve_article(site, "le-hoi-mua-xuan-1003", "Lễ hội mùa xuân", minute=60)
    later = (clock.now() + timedelta(minutes=-5)).isoformat()
    body = news_sitemap((c, "2020-01-01T08:00:00+07:00"), (a, "2020-01-01T07:00:00+07:00"),
                        (b, "2020-01-01T07:30:00+07:00"))
    body = body.replace(f"<loc>{b}</loc>", f"<loc>{b}</loc><lastmod>{later}</lastmod>")
    site.route("/sitemap-news.xml", body, headers={"ETag": '"s2"'})
    before = len(site.requests)
    [r3] = poll(cfg)
    fetched = [r.path for r in site.requests[before:]]
    assert r3.new == 1, r3
    assert "/thoi-su/le-hoi-mua-xuan-1003.html" in fetched
    assert "/thoi-su/khanh-thanh-cau-moi-1002.html" in fetched
    assert "/thoi-su/hoi-nghi-tong-ket-1001.html" not in fetched
    assert len(items(cfg, "tin")) == 3


def test_sitemap_index_with_a_gzip_sitemap(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    a = serve_article(site, "bai-mot-trong-thang-1001", "Bài một trong tháng")
    b = serve_article(site, "bai-hai-thang-truoc-1002", "Bài hai tháng trước", minute=5)
    old = serve_article(site, "bai-cu-nam-ngoai-0999", "Bài cũ năm ngoái")
    urlset = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              "{}</urlset>")
    site.route("/sitemaps/2020-02.xml.gz", gzip.compress(urlset.format(
        f"<url><loc>{a}</loc><lastmod>2020-02-03</lastmod></url>").encode()),
        headers={"Content-Type": "application/x-gzip"})
    site.route("/sitemaps/2020-01.xml", urlset.format(
        f"<url><loc>{b}</loc><lastmod>2020-01-30T10:00:00+07:00</lastmod></url>"))
    site.route("/sitemaps/2019-01.xml", urlset.format(f"<url><loc>{old}</loc></url>"))
    children = [("2019-01.xml", "2019-01-31"), ("2020-01.xml", "2020-01-31"),
                ("2020-02.xml.gz", "2020-02-03")] + [
        (f"missing-{i}.xml", "2018-01-01") for i in range(5)]
    index = ('<?xml version="1.0"?><sitemapindex '
             'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(
                 f"<sitemap><loc>{site.url('/sitemaps/' + n)}</loc><lastmod>{d}</lastmod>"
                 "</sitemap>" for n, d in children) + "</sitemapindex>")
    site.route("/sitemap.xml", index, headers={"Content-Type": "text/xml"})
    cfg = config(tmp_path, database_url, Source(id="chi-muc", name="Chỉ mục", kind="sitemap",
                                                urls=(site.url("/sitemap.xml"),)))
    [r] = poll(cfg)
    assert r.status == "ok" and r.new == 3, r
    # The three newest sitemaps of the index are read; older ones (404 here) are not asked for.
    assert not any(q.path.startswith("/sitemaps/missing") for q in site.requests)
    assert {i["title"] for i in items(cfg, "chi-muc")} == {
        "Bài một trong tháng", "Bài hai tháng trước", "Bài cũ năm ngoái"}


@pytest.mark.parametrize(("body", "words"), [
    ('<?xml version="1.0"?><urlset><url><loc>http://x/a</loc></url>', "malformed sitemap XML"),
    ("<html><body><p>Trang chủ</p></body></html>", "not a sitemap"),
])
def test_malformed_sitemap_is_a_clear_error_naming_the_url(
        site: LoopbackServer, tmp_path: Path, body: str, words: str) -> None:
    site.route("/sitemap.xml", body, headers={"Content-Type": "application/xml"})
    url = site.url("/sitemap.xml")
    cfg = config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                 Source(id="hong", name="Hỏng", kind="sitemap", urls=(url,)))
    [r] = poll(cfg)
    assert r.status == "error"
    assert r.error and url in r.error and words in r.error, r.error


# -- feed ------------------------------------------------------------------------------------

UNDATED_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>{title}</title></head><body><article><h1>{title}</h1>
<p>Đoạn văn thứ nhất của bài báo đầy đủ, dài hơn nhiều so với câu tóm tắt trong nguồn tin RSS.</p>
<p>Đoạn văn thứ hai kể thêm chi tiết về sự kiện, với nhiều câu chữ hơn nữa cho bài báo.</p>
<p>Đoạn văn thứ ba kết thúc bài viết bằng một nhận định của phóng viên về sự kiện này.</p>
</article></body></html>"""


def rss(*entries: tuple[str, str, str, str]) -> str:
    """A truncated RSS feed: (link, title, pubDate, author) and one sentence each."""
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<description>Một câu tóm tắt.</description><pubDate>{when}</pubDate>"
        f"<author>toasoan@example.vn ({who})</author></item>" for link, t, when, who in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Báo Thử</title><link>http://127.0.0.1/</link><description>Tin</description>"
            f"{body}</channel></rss>")


def test_truncated_feed_becomes_a_full_text_feed(
        site: LoopbackServer, tmp_path: Path, database_url: str) -> None:
    dated = serve_article(site, "hoi-nghi-co-ngay-1001", "Hội nghị có ngày trên trang")
    site.route("/kinh-te/khong-ngay-1002.html",
               UNDATED_PAGE.format(title="Bài không ghi ngày trên trang"))
    undated = site.url("/kinh-te/khong-ngay-1002.html")
    site.route("/rss.xml", rss(
        (dated, "Hội nghị", "Sun, 05 Jan 2020 09:00:00 +0700", "Người Khác"),
        (undated, "Bài không ngày", "Mon, 06 Jan 2020 10:15:00 +0700", "Minh Thư")),
        headers={"ETag": '"f1"', "Content-Type": "application/rss+xml"})
    cfg = config(tmp_path, database_url, Source(id="rss", name="Báo Thử", kind="feed",
                                                urls=(site.url("/rss.xml"),)))
    [r] = poll(cfg)
    assert (r.status, r.new) == ("ok", 2), r
    valid_feeds(cfg, "rss")
    by_url = {i["url"]: i for i in items(cfg, "rss")}
    # Full text from the pages, not the feed's one sentence.
    assert "Đoạn văn thứ hai" in by_url[dated]["content_html"]
    assert "Đoạn văn thứ ba" in by_url[undated]["content_html"]
    # The page's own date and byline beat the feed's; the feed fills what the page lacks.
    assert by_url[dated]["date_published"] == "2020-01-01T00:00:00+07:00"
    assert [a["name"] for a in by_url[dated]["authors"]] == ["Trí Nhân"]
    assert by_url[undated]["date_published"] == "2020-01-06T10:15:00+07:00"
    assert [a["name"] for a in by_url[undated]["authors"]] == ["Minh Thư"]

    before = len(site.requests)
    [r2] = poll(cfg)
    assert r2.status == "not-modified"
    assert site.requests[before].headers.get("If-None-Match") == '"f1"'
    assert len(site.requests) == before + 1

    # A new entry: only its page is fetched, not the two known ones.
    fresh = serve_article(site, "tin-moi-them-vao-1003", "Tin mới thêm vào", minute=90)
    site.route("/rss.xml", rss(
        (fresh, "Tin mới", "Tue, 07 Jan 2020 08:00:00 +0700", "Minh Thư"),
        (dated, "Hội nghị", "Sun, 05 Jan 2020 09:00:00 +0700", "Người Khác"),
        (undated, "Bài không ngày", "Mon, 06 Jan 2020 10:15:00 +0700", "Minh Thư")),
        headers={"ETag": '"f2"', "Content-Type": "application/rss+xml"})
    before = len(site.requests)
    [r3] = poll(cfg)
    assert (r3.status, r3.new) == ("ok", 1), r3
    assert [r.path for r in site.requests[before:]] == [
        "/rss.xml", "/thoi-su/tin-moi-them-vao-1003.html"]


def test_broken_feed_is_a_clear_error(site: LoopbackServer, tmp_path: Path) -> None:
    site.route("/rss.xml", "<html><body>Trang lỗi</body></html>")
    cfg = config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                 Source(id="rss", name="Báo", kind="feed", urls=(site.url("/rss.xml"),)))
    [r] = poll(cfg)
    assert r.status == "error" and r.error and site.url("/rss.xml") in r.error
    assert "not a readable RSS/Atom feed" in r.error


def test_permanent_redirect_of_a_source_url_is_reported(
        site: LoopbackServer, tmp_path: Path) -> None:
    a = serve_article(site, "bai-moi-tren-trang-1001", "Bài mới")
    site.route("/cu/", "", status=301, headers={"Location": "/moi/"})
    site.route("/moi/", f'<html><body><main><a href="{a}">Bài mới trên trang mới của báo '
                        "thử nghiệm</a></main></body></html>")
    cfg = config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                 Source(id="doi", name="Đổi", urls=(site.url("/cu/"),)))
    [r] = poll(cfg)
    assert r.status == "ok" and r.new == 1
    assert any(site.url("/moi/") in w and "moved permanently" in w for w in r.warnings), r


def test_sitemap_over_the_cap_is_refused(site: LoopbackServer, tmp_path: Path) -> None:
    a = serve_article(site, "bai-mot-1001", "Bài một")
    site.route("/sitemap.xml", news_sitemap(*[(a, "2020-01-01")] * 40))
    cfg = config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                 Source(id="to", name="To", kind="sitemap", urls=(site.url("/sitemap.xml"),)))
    cfg = Config(settings=Settings(**{**_fields(cfg.settings), "max_sitemap_bytes": 2000}),
                 sources=cfg.sources)
    [r] = poll(cfg)
    assert r.status == "error" and r.error and "2000 byte cap" in r.error, r


def _fields(settings: Settings) -> dict:
    from dataclasses import fields

    return {f.name: getattr(settings, f.name) for f in fields(settings)}


# -- a 50 MB sitemap index, streamed ---------------------------------------------------------

INDEX_BYTES = 50 * 1024 * 1024


def _serve_huge_index(site: LoopbackServer) -> None:
    """A sitemap index of 50 MB, generated while it is sent (never held whole in either
    process); its last entries are the newest, pointing at small urlsets."""
    head = b'<?xml version="1.0"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    tail = b"</sitemapindex>\n"

    def entry(i: int, newest: bool = False) -> bytes:
        day = "2020-03-01" if newest else "2019-01-01"
        return (f"<sitemap><loc>{site.url(f'/sitemaps/s-{i:07d}.xml')}</loc>"
                f"<lastmod>{day}T00:{i % 60:02d}:00+07:00</lastmod></sitemap>\n").encode()

    per = len(entry(0))
    n = (INDEX_BYTES - len(head) - len(tail)) // per

    def handler(h):  # type: ignore[no-untyped-def]
        h.send_response(200)
        h.send_header("Content-Type", "application/xml")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(head)
        block = bytearray()
        for i in range(n):
            block += entry(i, newest=i >= n - 2)
            if len(block) > 256 * 1024:
                h.wfile.write(bytes(block))
                block.clear()
        h.wfile.write(bytes(block) + tail)
        h.close_connection = True

    site.route("/sitemap.xml", handler)
    for i in (n - 2, n - 1):
        a = serve_article(site, f"bai-moi-nhat-so-{i}", f"Bài mới nhất số {i}")
        site.route(f"/sitemaps/s-{i:07d}.xml",
                   '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                   f'sitemap/0.9"><url><loc>{a}</loc></url></urlset>')


@pytest.mark.slow
def test_50mb_sitemap_index_is_streamed_under_100mb_rss(
        site: LoopbackServer, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support.site import write_config

    _serve_huge_index(site)
    cfg = write_config(tmp_path / "feeder.toml",
                       {"out": "public", "database": "var/feeder.db", "host_delay": 0.0,
                        "respect_robots": False, "read_timeout": 60.0},
                       [{"id": "lon", "name": "Lớn", "kind": "sitemap",
                         "url": site.url("/sitemap.xml")}])
    proc = subprocess.run([sys.executable, "-m", "tests.support.poll_run", str(cfg)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    [result] = report["results"]
    assert result["status"] == "ok" and result["new"] == 2, result
    assert report["peak_rss_mb"] < 100, report["peak_rss_mb"]
    print(f"50 MB sitemap index: peak RSS {report['peak_rss_mb']:.0f} MB, "
          f"{report['seconds']:.1f} s")


def test_streamed_sitemap_cap_holds_after_decompression(site: LoopbackServer) -> None:
    """A small gzip body (Content-Encoding) that inflates past the cap is refused while it
    streams, as whole bodies are (fetch.py's cap before and after decompression)."""
    from zoneinfo import ZoneInfo

    from feeder.errors import FetchRefused
    from feeder.sources.sitemap import collect

    entries = "".join(f"<url><loc>http://127.0.0.1/tin-so-{i}.html</loc></url>"
                      for i in range(20_000))
    doc = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
           f"{entries}</urlset>").encode()
    packed = gzip.compress(doc)
    assert len(packed) < 200_000 < len(doc)
    site.route("/sitemap.xml", packed, headers={"Content-Encoding": "gzip",
                                                "Content-Type": "application/xml"})

    def read(cap: int):  # type: ignore[no-untyped-def]
        settings = Settings(host_delay=0.0, respect_robots=False, max_sitemap_bytes=cap)
        with Fetcher(settings, retries=0) as fetcher:
            return collect(site.url("/sitemap.xml"),
                           lambda url, consume: fetcher.stream(url, consume, allow_private=True),
                           tz=ZoneInfo("UTC"))

    with pytest.raises(FetchRefused, match="exceeds the byte cap"):
        read(200_000)
    whole = read(10_000_000)
    assert whole.count == 20_000 and len(whole.announced) == 1000  # the first KEEP_ENTRIES
    assert whole.announced[0].url == "http://127.0.0.1/tin-so-0.html"


def test_a_sitemap_that_stops_listing_articles_is_flagged(
        site: LoopbackServer, tmp_path: Path) -> None:
    import subprocess
    import sys

    site.route("/sitemap.xml", '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
                               'schemas/sitemap/0.9"></urlset>')
    cfg_file = tmp_path / "feeder.toml"
    cfg_file.write_text('[feeder]\nout = "public"\ndatabase = "f.db"\nhost_delay = 0.0\n'
                        'respect_robots = false\n[[sources]]\nid = "rong"\nkind = "sitemap"\n'
                        f'url = "{site.url("/sitemap.xml")}"\n', encoding="utf-8")
    for _ in range(3):
        run = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg_file), "run",
                              "--once"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and "sitemap yielded no article link" in run.stdout
    status = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg_file),
                             "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 1
    assert "no article in 3 polls: the sitemap lists nothing?" in status.stdout
    assert f"`feeder probe {site.url('/')}` suggests a fix" in status.stdout


def test_a_sitemap_that_moved_permanently_is_reported(
        site: LoopbackServer, tmp_path: Path) -> None:
    a = serve_article(site, "bai-trong-sitemap-moi-1001", "Bài trong sitemap mới")
    site.route("/sitemap.xml", "", status=308, headers={"Location": "/sitemaps/tin.xml"})
    site.route("/sitemaps/tin.xml", news_sitemap((a, "2020-01-01T07:00:00+07:00")),
               headers={"Content-Type": "application/xml"})
    cfg = config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                 Source(id="doi", name="Đổi", kind="sitemap", urls=(site.url("/sitemap.xml"),)))
    [r] = poll(cfg)
    assert r.status == "ok" and r.new == 1, r
    assert any(f"moved permanently to {site.url('/sitemaps/tin.xml')}" in w
               for w in r.warnings), r

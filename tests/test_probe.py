"""`feeder probe` on loopback sites, one per way a site announces its articles.

Each proposal is written with --write and then polled by `feeder run --once` with no edit: the
feeds it publishes must parse (feedparser) and hold the site's articles.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.support.http import LoopbackServer
from tests.support.site import article_html

TITLES = ["Hội nghị tổng kết công tác năm của tỉnh", "Khánh thành cầu mới nối hai xã cù lao",
          "Nông dân trúng mùa lúa Thu Đông năm nay", "Liên hoan đờn ca tài tử lần thứ năm",
          "Đội bóng đá tỉnh giành vé thăng hạng", "Khởi tố đối tượng lừa đảo qua mạng"]
NEWS_NS = ('xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"')


def build_site(srv: LoopbackServer, *, feed: bool = False, news: bool = False,
               index: bool = False, listing: bool = True, robots: str = "",
               links: str = "article") -> list[str]:
    """Six articles, and the ways to find them the case asks for; returns the article URLs."""
    urls = []
    for i, title in enumerate(TITLES):
        path = (f"/thoi-su/bai-bao-thu-nghiem-so-{1000 + i}.html"
                if links == "article" else f"/bai/b{i}")
        srv.route(path, article_html(srv.url(path), title, minute=60 * i))
        urls.append(srv.url(path))
    head = '<meta property="og:site_name" content="Báo Thử Nghiệm">'
    if feed:
        head += '<link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        items = "".join(
            f"<item><title>{t}</title><link>{u}</link><description>Một câu.</description>"
            f"<pubDate>Wed, 0{1 + i} Jan 2020 0{i}:00:00 +0700</pubDate></item>"
            for i, (t, u) in enumerate(zip(TITLES, urls, strict=True)))
        srv.route("/rss.xml", '<?xml version="1.0"?><rss version="2.0"><channel><title>Báo'
                  f"</title><link>{srv.url('/')}</link><description>Tin</description>{items}"
                  "</channel></rss>", headers={"Content-Type": "application/rss+xml"})
    entries = "".join(
        f"<url><loc>{u}</loc><news:news><news:publication_date>2020-01-01T0{i}:00:00+07:00"
        f"</news:publication_date><news:title>{t}</news:title></news:news></url>"
        for i, (t, u) in enumerate(zip(TITLES, urls, strict=True)))
    news_doc = f'<?xml version="1.0"?><urlset {NEWS_NS}>{entries}</urlset>'
    if index:
        srv.route("/sitemaps/tin.xml", news_doc, headers={"Content-Type": "application/xml"})
        srv.route("/sitemap_index.xml",
                  '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
                  f'sitemap/0.9"><sitemap><loc>{srv.url("/sitemaps/tin.xml")}</loc>'
                  "<lastmod>2020-01-06</lastmod></sitemap></sitemapindex>",
                  headers={"Content-Type": "application/xml"})
        robots += f"Sitemap: {srv.url('/sitemap_index.xml')}\n"
    elif news:
        srv.route("/sitemap.xml", news_doc, headers={"Content-Type": "application/xml"})
    if robots:
        srv.route("/robots.txt", "User-agent: *\n" + robots,
                  headers={"Content-Type": "text/plain"})
    if links == "article":
        anchors = "".join(f'<li><h3><a href="{u}">{t}</a></h3></li>'
                          for t, u in zip(TITLES, urls, strict=True)) if listing else ""
    else:  # short URLs automatic discovery does not take for articles
        anchors = "".join(f'<li><h3 class="tieu-de"><a href="{u}">{t}</a></h3></li>'
                          for t, u in zip(TITLES, urls, strict=True))
    srv.route("/", f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Báo Thử '
                   f"Nghiệm</title>{head}</head><body><main><ul>{anchors}</ul><p>Xin chào bạn "
                   "đọc.</p></main></body></html>")
    return urls


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def feeder(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "feeder.toml"
    if not cfg.exists():
        cfg.write_text('[feeder]\nout = "public"\ndatabase = "var/feeder.db"\nhost_delay = 0.0\n',
                       encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "feeder", "-q", "--config", str(cfg), *args],
                          capture_output=True, text=True, timeout=120)


def probe_write_and_poll(tmp_path: Path, url: str) -> tuple[dict, str]:
    """`feeder probe URL --write`, then `feeder run --once` on what it wrote; the feeds must
    be valid and hold items. Returns the written source and the probe's output."""
    probed = feeder(tmp_path, "probe", url, "--write")
    assert probed.returncode == 0, probed.stdout + probed.stderr
    [written] = (tmp_path / "feeds").glob("*.toml")
    source = tomllib.loads(written.read_text(encoding="utf-8"))
    ran = feeder(tmp_path, "run", "--once")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((tmp_path / "public" / source["id"] / name).read_bytes())
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        assert {e.title for e in parsed.entries} == set(TITLES), name
    return source, probed.stdout


def test_declared_feed(site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site, feed=True, listing=False)
    source, out = probe_write_and_poll(tmp_path, site.url("/"))
    assert (source["kind"], source["url"]) == ("feed", site.url("/rss.xml"))
    assert "truncated" in out and "full text" in out
    assert source["name"] == "Báo Thử Nghiệm" and source["id"] == "bao-thu-nghiem"
    assert (source["timezone"], source["language"]) == ("Asia/Ho_Chi_Minh", "vi")


def test_news_sitemap(site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site, news=True, listing=False)
    source, out = probe_write_and_poll(tmp_path, site.url("/"))
    assert (source["kind"], source["url"]) == ("sitemap", site.url("/sitemap.xml"))
    assert "news sitemap" in out
    # The preview shows items as the feeds carry them: title, time with offset, author, image.
    assert "2020-01-01T05:00:00+07:00" in out and "Trí Nhân" in out
    assert source["interval"] == "30m"  # items an hour apart: half the median gap


def test_sitemap_index_from_robots_txt(site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site, index=True, listing=False)
    source, out = probe_write_and_poll(tmp_path, site.url("/"))
    assert (source["kind"], source["url"]) == ("sitemap", site.url("/sitemap_index.xml"))
    assert "(robots.txt)" in out


def test_listing_only(site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site)
    source, _ = probe_write_and_poll(tmp_path, site.url("/"))
    assert source.get("kind", "listing") == "listing" and source["url"] == site.url("/")
    assert "link_selector" not in source  # automatic discovery is sure of six links


def test_listing_that_needs_a_selector(site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site, links="short")
    source, _ = probe_write_and_poll(tmp_path, site.url("/"))
    assert source["link_selector"] == "h3.tieu-de > a"


def test_mixed_site_prefers_the_news_sitemap_and_names_the_rest(
        site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site, feed=True, news=True)
    source, out = probe_write_and_poll(tmp_path, site.url("/"))
    assert source["kind"] == "sitemap"
    assert "also found" in out and "/rss.xml" in out and "6 article links" in out


def test_robots_txt_disallow_is_said_clearly(site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site, feed=True, news=True, robots="Disallow: /\n")
    out = feeder(tmp_path, "probe", site.url("/"), "--write")
    assert out.returncode == 1
    assert "robots.txt disallows" in out.stdout and "feeder will not poll it" in out.stdout
    assert not (tmp_path / "feeds").exists()
    assert site.requests_to("/") == []  # it asked robots.txt only


def test_a_site_with_none_of_these_says_so(site: LoopbackServer, tmp_path: Path) -> None:
    site.route("/", "<!doctype html><html><head><title>Trang</title></head><body><p>Xin chào, "
                    "trang này chưa có bài nào.</p></body></html>")
    out = feeder(tmp_path, "probe", site.url("/"))
    assert out.returncode == 1
    assert "found no declared feed, no sitemap and no article links" in out.stdout


def test_write_refuses_to_overwrite_without_force(site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site, feed=True, listing=False)
    assert feeder(tmp_path, "probe", site.url("/"), "--write").returncode == 0
    [written] = (tmp_path / "feeds").glob("*.toml")
    written.write_text(written.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")
    again = feeder(tmp_path, "probe", site.url("/"), "--write")
    assert again.returncode == 2 and "--force" in again.stderr and str(written) in again.stderr
    assert "# my edit" in written.read_text(encoding="utf-8")
    forced = feeder(tmp_path, "probe", site.url("/"), "--write", "--force")
    assert forced.returncode == 0 and "# my edit" not in written.read_text(encoding="utf-8")


def test_probe_suggests_the_fix_for_a_configured_source_whose_listing_changed(
        site: LoopbackServer, tmp_path: Path) -> None:
    build_site(site, feed=True)
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "cu.toml").write_text(f'id = "cu"\nurl = "{site.url("/")}"\n'
                                   'link_selector = "div.tin-cu a"\n', encoding="utf-8")
    out = feeder(tmp_path, "probe", site.url("/"))
    assert out.returncode == 0, out.stderr
    assert "configured source 'cu'" in out.stdout
    assert "link_selector 'div.tin-cu a' selects 0 link(s) now" in out.stdout


def test_demo_site_preview_shows_images_with_captions(tmp_path: Path) -> None:
    from tests.support.demo import demo_site

    with demo_site() as base:
        source, out = _probe_demo(tmp_path, base)
    assert source["kind"] == "sitemap" and source["url"] == base + "sitemap.xml"
    assert "news sitemap" in out and "truncated" in out
    assert "image: " + base + "images/lua-dao-qua-mang.png — Cán bộ Công an huyện" in out
    assert "2020-12-30T07:30:00+07:00 | Ngọc Hân" in out


def _probe_demo(tmp_path: Path, base: str) -> tuple[dict, str]:
    probed = feeder(tmp_path, "probe", base, "--write")
    assert probed.returncode == 0, probed.stdout + probed.stderr
    [written] = (tmp_path / "feeds").glob("*.toml")
    return tomllib.loads(written.read_text(encoding="utf-8")), probed.stdout


def test_probe_names_a_configured_sitemap_source_of_the_site(
        site: LoopbackServer, tmp_path: Path) -> None:
    """A source configured on the site's sitemap, probed from the home page: the probe finds that
    the site now announces its articles in a feed and says how the source should change."""
    build_site(site, feed=True, listing=False)
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "cu.toml").write_text(f'id = "cu"\nkind = "sitemap"\n'
                                   f'url = "{site.url("/rss.xml")}"\n', encoding="utf-8")
    out = feeder(tmp_path, "probe", site.url("/"))
    assert out.returncode == 0, out.stderr
    assert "configured source 'cu'" in out.stdout
    assert 'kind = "feed"' in out.stdout and '(now: kind = "sitemap"' in out.stdout

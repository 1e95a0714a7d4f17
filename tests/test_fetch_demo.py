"""demo/server.py driven by the real Fetcher and discover, on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from feeder.config import Settings, Source
from feeder.discover import links
from feeder.errors import FetchError
from feeder.fetch import Fetcher
from feeder.model import CacheInfo, NotModified, Page
from tests.support.demo import DEMO, demo_site


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with demo_site() as url:
        yield url


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(Settings(host_delay=0)) as f:
        yield f


def test_home_page_conditional_get(base: str, fetcher: Fetcher) -> None:
    first = fetcher.get(base, kind="listing", allow_private=True)
    assert isinstance(first, Page)
    assert first.content_type == "text/html" and first.encoding == "utf-8"
    assert first.cache.etag and first.cache.last_modified
    assert "Báo Tân Phước" in first.text
    again = fetcher.get(base, first.cache, kind="listing", allow_private=True)
    assert isinstance(again, NotModified)
    # Last-Modified alone is enough too.
    by_date = fetcher.get(base, CacheInfo(None, first.cache.last_modified), kind="listing",
                          allow_private=True)
    assert isinstance(by_date, NotModified)
    # A stale ETag gets the page.
    assert isinstance(fetcher.get(base, CacheInfo('"old"', None), allow_private=True), Page)


def test_whole_site_discover_then_fetch(base: str, fetcher: Fetcher) -> None:
    listing = fetcher.get(base, kind="listing", allow_private=True)
    assert isinstance(listing, Page)
    found = links(listing, Source(id="demo", name="Demo", urls=(base,)))
    assert len(found) == 6
    for link in found:
        article = fetcher.get(link.url, allow_private=True)
        assert isinstance(article, Page), link
        assert "- Báo Tân Phước</title>" in article.text
        assert re.search(r"<h1[^>]*>", article.text)
        assert "Ngày " in article.text  # the dateline


def test_robots_query_strings_and_missing_pages(base: str, fetcher: Fetcher) -> None:
    robots = fetcher.get(base + "robots.txt", kind="robots", allow_private=True)
    assert isinstance(robots, Page) and "Disallow: /tim-kiem" in robots.text
    with pytest.raises(FetchError, match=r"robots\.txt"):
        fetcher.get(base + "tim-kiem?q=lua", allow_private=True)
    tracked = fetcher.get(base + "thoi-su/?utm_source=zalo", kind="listing", allow_private=True)
    assert isinstance(tracked, Page) and "Thời sự" in tracked.text
    with pytest.raises(FetchError) as err:
        fetcher.get(base + "khong-co-trang-nay.html", allow_private=True)
    assert err.value.status == 404
    # /thoi-su without the slash redirects, like a static server does.
    assert fetcher.get(base + "thoi-su", allow_private=True).final_url == base + "thoi-su/"


def test_images_are_real_pngs(base: str) -> None:
    images = sorted((DEMO / "site" / "images").glob("*.png"))
    assert len(images) >= 7
    for path in images:
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) < 2000
    resp = requests.get(base + "images/logo.png", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"

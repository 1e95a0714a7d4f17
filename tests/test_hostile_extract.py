"""Hostile pages (issue 9): control characters where text enters the tree, giant titles, and
images on private addresses. Each page is served by a real loopback server, polled, published,
and read back from all three formats and their .gz by real readers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import hostile
from tests.support.http import LoopbackServer, loopback_counts_as_public
from tests.support.site import article_html, listing_html

TITLE = "Hội nghị tổng kết công tác năm của tỉnh"
MAX_TITLE_CHARS = 300  # the contract (feeder.extract.core.MAX_TITLE_CHARS)
# Word's line break (\x0b) and page break (\x0c) where a removed element leaves its tail, and
# inside an href: each made the article fail with "All strings must be XML compatible".
CONTROL_BODIES = {
    "after-script": "<p>Mở đầu<script>var a = 1;</script>\x0bđoạn văn tiếp theo của bài.</p>",
    "after-iframe": "<p>Mở đầu<iframe src='/video'></iframe>\x0cđoạn văn tiếp theo.</p>",
    "after-nav": "<p>Mở đầu <nav><a href='/'>Trang chủ</a></nav>\x0b tiếp theo.</p>",
    "in-href": "<p>Xem <a href='/thoi-su/bai\x0bviet.html'>bài viết</a> liên quan.</p>",
    "in-title-attr": "<p>Ảnh <img src='/a.jpg' alt='Ảnh\x0c1'> trong bài.</p>",
    "in-json-ld": ('<script type="application/ld+json">{"@type": "NewsArticle", "author": '
                   '{"@type": "Person", "name": "Trí\x0bNhân"}, "description": "Dòng một\n'
                   'dòng hai"}</script><p>Nội dung bài viết có dữ liệu cấu trúc.</p>'),
}


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def test_control_characters_do_not_fail_the_article(site: LoopbackServer,
                                                     tmp_path: Path) -> None:
    urls = []
    for n, (name, body) in enumerate(CONTROL_BODIES.items()):
        url = site.url(f"/thoi-su/{name}.html")
        site.route(f"/thoi-su/{name}.html", article_html(url, f"{TITLE} {name}", body=body,
                                                         minute=n))
        urls.append(url)
    site.route("/thoi-su/", listing_html(urls))
    cfg = hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                         hostile.source("vt", site.url("/thoi-su/")))
    [result] = hostile.poll(cfg)
    assert result.failed_pages == () and result.new == len(CONTROL_BODIES), result
    for label, entries in hostile.feed_entries(cfg.settings.out, "vt").items():
        assert sorted(e["link"] for e in entries) == sorted(urls), label
        for e in entries:
            assert "\x0b" not in e["content"] and "\x0c" not in e["content"], label
    text = {e["link"]: e["content"]
            for e in hostile.feed_entries(cfg.settings.out, "vt")["feed.json"]}
    assert "đoạn văn tiếp theo của bài" in text[urls[0]]


def poll_one_article(site: LoopbackServer, tmp_path: Path, sid: str, title: str,
                     body: str = "") -> dict[str, list[dict[str, Any]]]:
    """Serve one article under a listing on ``site``, poll it, and read back every format."""
    url = site.url("/thoi-su/bai.html")
    site.route("/thoi-su/bai.html", article_html(url, title, body=body))
    site.route("/thoi-su/", listing_html([url]))
    cfg = hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                         hostile.source(sid, site.url("/thoi-su/")))
    [result] = hostile.poll(cfg)
    assert result.new == 1, result
    return hostile.feed_entries(cfg.settings.out, sid)


def test_a_giant_title_is_cut_at_a_word_with_an_ellipsis(site: LoopbackServer,
                                                          tmp_path: Path) -> None:
    giant = " ".join(["Tiêu đề rất dài lặp lại"] * 440)  # about 10,000 characters
    assert len(giant) > 10_000 - 200
    for label, [entry] in poll_one_article(site, tmp_path, "long", giant).items():
        title = entry["title"]
        assert len(title) <= MAX_TITLE_CHARS and title.endswith("…"), (label, len(title))
        assert giant.startswith(title[:-1]) and giant[len(title) - 1] == " ", label


PRIVATE_IMAGES = ("http://169.254.169.254/latest/meta-data/anh.jpg", "http://127.0.0.1/anh.jpg",
                  "http://10.1.2.3/anh.jpg", "http://192.168.1.1/anh.jpg",
                  "http://[fd00::1]/anh.jpg", "http://[::1]/anh.jpg", "http://[fe80::1]/anh.jpg",
                  "http://2852039166/anh.jpg", "http://localhost/anh.jpg")


@pytest.mark.parametrize("private", PRIVATE_IMAGES)
def test_images_on_private_addresses_are_dropped(site: LoopbackServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 private: str) -> None:
    # The page is on a public-looking host (news.test): its images on private addresses would
    # be fetched by each reader's client inside the reader's network. A public image stays.
    loopback_counts_as_public(monkeypatch)
    url = hostile.public_url(site.port, "/thoi-su/anh.html")
    public_image = "https://cdn.example.org/anh-dep.jpg"
    body = (f"<figure><img src='{private}' alt='Ảnh riêng'><figcaption>Ảnh nội bộ</figcaption>"
            f"</figure><figure><img src='{public_image}' alt='Ảnh'><figcaption>Ảnh công khai"
            f"</figcaption></figure>")
    page = article_html(url, TITLE, body=body).replace(
        "</head>", f"<meta property='og:image' content='{private}'></head>")
    site.route("/thoi-su/anh.html", page)
    site.route("/thoi-su/", listing_html([url]))
    cfg = hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                         hostile.source("img", hostile.public_url(site.port, "/thoi-su/")))
    [result] = hostile.poll(cfg)
    assert result.new == 1, result
    host = private.split("/")[2]
    for label, [entry] in hostile.feed_entries(cfg.settings.out, "img").items():
        assert host not in entry["content"], label
        assert all(host not in (e or "") for e in entry["enclosures"]), label
        assert public_image in entry["content"], label


def test_a_private_site_keeps_its_own_images(site: LoopbackServer, tmp_path: Path) -> None:
    # A source on a private host (an intranet, the demo) links images on that host: kept.
    image = site.url("/anh/hoi-nghi.jpg")
    body = f"<figure><img src='{image}' alt='Ảnh'><figcaption>Hội nghị</figcaption></figure>"
    for label, [entry] in poll_one_article(site, tmp_path, "lan", TITLE, body).items():
        assert image in entry["content"] or image in entry["enclosures"], label

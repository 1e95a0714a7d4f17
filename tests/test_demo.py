"""`make demo`'s path end to end: the demo site on loopback, `feeder run --once` with the bundled
source definition, and the published feeds read back by feedparser.

The expected values are read off the demo pages by hand (demo/site); they are what a reader of
those pages sees.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from tests.support.demo import demo_site as serve_demo_site

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    # slug: (title, published, authors)
    "dang-uy-cong-an-tinh-tong-ket-cong-tac-dang-nam-2020-10234":
        ("Đảng ủy Công an tỉnh tổng kết công tác Đảng năm 2020", "2020-12-22T17:05:00+07:00",
         ["Trí Nhân"]),
    "nong-dan-my-loi-trung-mua-lua-thu-dong-10241":
        ("Nông dân Mỹ Lợi trúng mùa lúa Thu Đông", "2020-12-23T08:30:00+07:00",
         ["Hoàng Anh", "Minh Thư"]),
    "khoi-to-doi-tuong-lua-dao-chiem-doat-tien-qua-mang-10262":
        ("Khởi tố đối tượng lừa đảo chiếm đoạt tiền qua mạng xã hội",
         "2020-12-30T07:30:00+07:00", ["Ngọc Hân"]),
    "doi-bong-da-tan-phuoc-gianh-ve-thang-hang-nhi-quoc-gia-10256":
        ("Đội bóng đá Tân Phước giành vé thăng hạng Nhì quốc gia", "2020-12-28T06:45:00+07:00",
         ["Quốc Huy"]),
    "tinh-tan-phuoc-don-nhan-huan-chuong-lao-dong-hang-nhat-10102":
        ("Tỉnh Tân Phước đón nhận Huân chương Lao động hạng Nhất", "2020-12-10T10:20:00+07:00",
         ["Phương Lan"]),
    "lien-hoan-don-ca-tai-tu-tinh-tan-phuoc-lan-thu-v-10250":
        ("Liên hoan Đờn ca tài tử tỉnh Tân Phước lần thứ V", "2020-12-27T19:05:00+07:00",
         ["Thanh Tâm"]),
    "khanh-thanh-cau-binh-hoa-noi-lien-hai-xa-cu-lao-10245":
        ("Khánh thành cầu Bình Hòa nối liền hai xã cù lao", "2020-12-24T09:40:00+07:00", []),
}


# In the monthly archives (the bundled source keeps its 7 newest articles in the feed).
OLDER = ("tan-phuoc-ra-quan-lam-thuy-loi-noi-dong-mua-kho-10088",
         "ngay-hoi-dai-doan-ket-toan-dan-toc-tai-xa-cu-lao-10071",
         "tan-phuoc-ho-tro-nguoi-dan-vung-lu-mien-trung-10035")


@pytest.fixture
def demo_site() -> Iterator[str]:
    with serve_demo_site() as base:
        yield base


def test_demo_site_to_valid_feeds(demo_site: str, tmp_path: Path) -> None:
    bundled = tomllib.loads((ROOT / "feeds" / "demo.toml").read_text(encoding="utf-8"))
    urls = [u.replace("http://127.0.0.1:8081/", demo_site) for u in bundled["urls"]]
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    lines = [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in bundled.items()
             if k not in ("urls",)]
    lines.append(f"urls = {json.dumps(urls)}")
    (feeds / "demo.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = tmp_path / "feeder.toml"
    cfg.write_text('[feeder]\nout = "public"\ndatabase = "var/feeder.db"\nhost_delay = 0.0\n'
                   'base_url = "http://127.0.0.1:8080/"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg), "run", "--once"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    out = tmp_path / "public" / bundled["id"]
    json_feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    for name in ("rss.xml", "atom.xml"):
        parsed = feedparser.parse((out / name).read_bytes())
        assert not parsed.bozo, (name, parsed.get("bozo_exception"))
        assert len(parsed.entries) == len(EXPECTED)

    by_slug = {Path(item["url"]).stem: item for item in json_feed["items"]}
    assert set(by_slug) == set(EXPECTED)
    for slug, (title, published, authors) in EXPECTED.items():
        item = by_slug[slug]
        assert item["title"] == title
        assert item["date_published"] == published, slug
        assert [a["name"] for a in item.get("authors", [])] == authors, slug
        html = item["content_html"]
        assert "<figure" in html and "<figcaption" in html, slug  # the photo keeps its caption
        for chrome in ("Đọc nhiều", "Tin liên quan", "Chia sẻ", "Trang chủ"):
            assert chrome not in html, (slug, chrome)
        assert "Báo Tân Phước" not in item["title"]
    # Newest first.
    dates = [i["date_published"] for i in json_feed["items"]]
    assert dates == sorted(dates, reverse=True)

    # The older articles (October and November) fell off the feed into monthly archives, which
    # a reader reaches from the feed through prev-archive.
    assert sorted(p.name for p in (out / "archive").glob("*.xml")) == ["2020-10.xml",
                                                                      "2020-11.xml"]
    seen: list[str] = []
    doc = feedparser.parse((out / "atom.xml").read_bytes())
    while True:
        seen += [Path(e.link).stem for e in doc.entries]
        prev = [ln.href for ln in doc.feed.links if ln.rel == "prev-archive"]
        if not prev:
            break
        doc = feedparser.parse((out / "archive" / Path(prev[0]).name).read_bytes())
        assert not doc.bozo and doc.entries
    assert sorted(seen) == sorted([*EXPECTED, *OLDER])


def test_demo_site_three_kinds(demo_site: str, tmp_path: Path) -> None:
    """`make demo`'s three sources (listing, news sitemap, truncated feed) on the demo site: each
    publishes the same seven articles in full, with the same times and bylines."""
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    for name in ("demo.toml", "demo-sitemap.toml", "demo-rss.toml"):
        text = (ROOT / "feeds" / name).read_text(encoding="utf-8")
        (feeds / name).write_text(text.replace("http://127.0.0.1:8081/", demo_site),
                                  encoding="utf-8")
    cfg = tmp_path / "feeder.toml"
    cfg.write_text('[feeder]\nout = "public"\ndatabase = "var/feeder.db"\nhost_delay = 0.0\n',
                   encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg), "run", "--once"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for sid in ("tanphuoc", "tanphuoc-sitemap", "tanphuoc-rss"):
        out = tmp_path / "public" / sid
        for name in ("rss.xml", "atom.xml"):
            parsed = feedparser.parse((out / name).read_bytes())
            assert not parsed.bozo, (sid, name, parsed.get("bozo_exception"))
        items = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
        by_slug = {Path(item["url"]).stem: item for item in items}
        assert set(by_slug) == set(EXPECTED), sid
        for slug, (title, published, authors) in EXPECTED.items():
            item = by_slug[slug]
            assert (item["title"], item["date_published"]) == (title, published), (sid, slug)
            assert [a["name"] for a in item.get("authors", [])] == authors, (sid, slug)
            assert "<figcaption" in item["content_html"], (sid, slug)  # full text, not a line

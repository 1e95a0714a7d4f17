"""``feeder links``: the links a source would follow, from a URL (fetched politely) or a file."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from feeder.config import DEFAULT_USER_AGENT
from tests.support.http import LoopbackServer

LISTING = """<!doctype html><html><head><meta charset="utf-8">
<link rel="canonical" href="https://bao.example/thoi-su/"></head><body>
<nav><a href="/thoi-su/bai-trong-menu-cua-trang-9001.html">Bài trong menu của trang</a></nav>
<main><ul class="news">
  <li><h3><a href="/thoi-su/cau-moi-noi-lien-hai-xa-cu-lao-1001.html">Cầu mới nối liền hai xã
      cù lao</a></h3></li>
  <li><h3><a href="/thoi-su/gia-lua-tang-manh-trong-tuan-qua-1002.html?utm_source=x">Giá lúa
      tăng mạnh trong tuần qua</a></h3></li>
</ul></main>
<footer><a href="/gioi-thieu.html">Giới thiệu</a></footer></body></html>"""


def feeder(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feeder", "-q", "links", *args],
                          capture_output=True, text=True, timeout=60)


def lines(out: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in out.splitlines()]


def test_links_of_a_url_fetched_with_robots_and_user_agent() -> None:
    with LoopbackServer() as srv:
        srv.route("/robots.txt", "User-agent: *\nDisallow: /rieng/\n",
                  headers={"Content-Type": "text/plain"})
        srv.route("/thoi-su/", LISTING, headers={"Content-Type": "text/html; charset=utf-8"})
        srv.route("/rieng/", LISTING, headers={"Content-Type": "text/html; charset=utf-8"})
        done = feeder(srv.url("/thoi-su/"))
        assert done.returncode == 0, done.stderr
        assert lines(done.stdout) == [
            {"url": srv.url("/thoi-su/cau-moi-noi-lien-hai-xa-cu-lao-1001.html"),
             "text": "Cầu mới nối liền hai xã cù lao"},
            {"url": srv.url("/thoi-su/gia-lua-tang-manh-trong-tuan-qua-1002.html"),
             "text": "Giá lúa tăng mạnh trong tuần qua"},
        ]
        asked = srv.requests_to("/thoi-su/")
        assert asked and asked[0].headers["User-Agent"] == DEFAULT_USER_AGENT
        assert srv.requests_to("/robots.txt")

        refused = feeder(srv.url("/rieng/"))
        assert refused.returncode == 1
        assert "robots.txt" in refused.stderr and "Traceback" not in refused.stderr
        assert not srv.requests_to("/rieng/")


def test_links_of_a_file_with_url_canonical_gzip_and_selector(tmp_path: Path) -> None:
    page = tmp_path / "thoi-su.html"
    page.write_text(LISTING, encoding="utf-8")
    given = lines(feeder(str(page), "--url", "http://bao.example/thoi-su/").stdout)
    assert [link["url"] for link in given] == [
        "http://bao.example/thoi-su/cau-moi-noi-lien-hai-xa-cu-lao-1001.html",
        "http://bao.example/thoi-su/gia-lua-tang-manh-trong-tuan-qua-1002.html"]
    # Without --url the page's canonical URL places it; a .gz file is read the same way.
    packed = tmp_path / "thoi-su.html.gz"
    packed.write_bytes(gzip.compress(LISTING.encode()))
    stated = lines(feeder(str(packed)).stdout)
    assert stated[0]["url"] == "https://bao.example/thoi-su/cau-moi-noi-lien-hai-xa-cu-lao-1001.html"
    # --selector is the source's link_selector: it decides, even inside the menu.
    chosen = lines(feeder(str(page), "--selector", "nav a").stdout)
    assert chosen == [{"url": "https://bao.example/thoi-su/bai-trong-menu-cua-trang-9001.html",
                       "text": "Bài trong menu của trang"}]


@pytest.mark.parametrize(("args", "status", "message"), [
    (["{tmp}/missing.html", "--url", "http://bao.example/"], 1, "missing.html: cannot read"),
    (["{tmp}/plain.html"], 2, "give --url"),
    (["{tmp}/plain.html", "--url", "bao.example/"], 2, "--url must be an http(s) URL"),
    (["{tmp}/plain.html", "--url", "http://bao.example/", "--selector", "a["], 2, "--selector"),
    (["{tmp}/broken.html.gz", "--url", "http://bao.example/"], 1, "not a valid gzip file"),
    (["http://127.0.0.1:9/"], 1, "127.0.0.1:9"),
    ([], 2, "FILE_OR_URL"),
])
def test_clear_errors(tmp_path: Path, args: list[str], status: int, message: str) -> None:
    (tmp_path / "plain.html").write_text("<p><a href='/a/bai-viet-1234.html'>x</a></p>")
    (tmp_path / "broken.html.gz").write_bytes(b"not gzip")
    done = feeder(*(a.format(tmp=tmp_path) for a in args))
    assert done.returncode == status
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""

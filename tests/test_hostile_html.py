"""Hostile HTML never reaches a feed and never crashes a run (issue 5).

Article pages carry one trick each: scripts, event handlers, ``javascript:`` / ``data:`` URLs,
iframes, SVG and MathML tricks (``<svg><script>``, the ``<math><mtext><table><mglyph><style>``
mutation-XSS chain), style tags and attributes, a ``<noscript>`` trick, control characters and
U+FFFE, hostile metadata (title, og:image, JSON-LD) and a 100,000-level ``<div>`` nesting (also
around a listing's links). One ``run_once`` in a subprocess polls them all. Each page is either
published sanitised or reported as a failed page; the plain articles next to them are published;
no source fails with an internal error. Then every string of rss.xml, atom.xml and feed.json (XML
text and attributes, JSON values, i.e. what a reader sees after unescaping) is searched for
``<script``, ``<iframe``, ``<svg``, ``<math``, ``<style``, event-handler attributes,
``javascript:``, ``data:`` URLs in href/src and control characters; the HTML fields are also
parsed and their elements and attributes checked.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from lxml import etree

from feeder.config import Source
from feeder.discover import links
from feeder.errors import ExtractError
from feeder.extract import extract
from feeder.model import CacheInfo, Page
from tests.support.site import (
    Reply,
    SiteServer,
    article_html,
    check_published,
    listing_html,
    write_config,
)

ROOT = Path(__file__).resolve().parent.parent
DEPTH = 100_000

# Every payload calls pwn(); no feed may contain it in a place where it could run.
TRICKS: dict[str, str] = {
    "script": "<script>pwn()</script><script src='https://evil.example/x.js'></script>"
              "<p>Đoạn có <script>pwn()</script> kịch bản chen vào giữa câu.</p>",
    "handlers": '<p onclick="pwn()">Bấm vào đây</p><img src="/anh/a.jpg" onerror="pwn()" '
                'onload="pwn()" alt="Ảnh"><body onload="pwn()"><div onmouseover="pwn()">Di '
                "chuột</div>",
    "javascript-urls": '<p><a href="javascript:pwn()">Liên kết một</a> <a href="JaVaScRiPt:pwn()">'
                       'hai</a> <a href=" &#106;avascript&#58;pwn()">ba</a> <a href="java\tscript:'
                       'pwn()">bốn</a> <a href="vbscript:pwn()">năm</a></p>'
                       '<form action="javascript:pwn()"><button formaction="javascript:pwn()">'
                       "Gửi</button></form>",
    "data-urls": '<p><a href="data:text/html;base64,PHNjcmlwdD5wd24oKTwvc2NyaXB0Pg==">Dữ liệu</a>'
                 '</p><img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9cHduKCk+" alt="svg">'
                 '<img srcset="data:image/png;base64,AAAA 1x" src="/anh/b.jpg">'
                 '<object data="data:text/html,pwn()"></object>',
    "embed": '<embed src="data:text/html,pwn()"><embed src="javascript:pwn()">',
    "iframe": '<iframe src="https://evil.example/"></iframe><iframe srcdoc="<script>pwn()'
              '</script>"></iframe><frameset><frame src="javascript:pwn()"></frameset>',
    "svg": '<svg><script>pwn()</script></svg><svg onload="pwn()"><a xlink:href="javascript:'
           'pwn()"><text>x</text></a><animate attributeName="href" to="javascript:pwn()"/></svg>'
           "<p>Sau hình vẽ.</p>",
    "mathml": '<math><mtext><table><mglyph><style><img src=x onerror="pwn()">'
              "</style></mglyph></table></mtext></math>"
              '<math><maction actiontype="statusline" xlink:href="javascript:pwn()">x</maction>'
              "</math>",
    "style": "<style>p { background: url(javascript:pwn()) } @import 'https://evil.example/';"
             '</style><p style="background:url(javascript:pwn());width:expression(pwn())">'
             "Đoạn có kiểu.</p><link rel=stylesheet href='https://evil.example/x.css'>",
    "noscript": '<noscript><p title="</noscript><img src=x onerror=pwn()>"></p></noscript>'
                "<p>Sau noscript.</p>",
    "control-chars": "<p>Ký tự điều khiển: \x00\x01\x02\x03\x07\x08\x0b\x0c\x0e\x1b\x1f và "
                     "\ufffe\uffff ở giữa câu.</p>",
    "deep": "<div>" * DEPTH + "Rất sâu." + "</div>" * DEPTH,
    "unclosed-deep": "<div><span>" * (DEPTH // 2) + "Không đóng thẻ.",
    "base-meta": '<base href="javascript:pwn()//"><meta http-equiv="refresh" '
                 'content="0;url=javascript:pwn()"><p><a href="/tin/x.html">Liên kết tương đối'
                 "</a></p>",
}

# Hostile metadata: title, description, image and JSON-LD.
META_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Tiêu đề <script>pwn()</script> độc \x01 hại</title>
<link rel="canonical" href="{canonical}">
<meta property="og:title"
 content="Tiêu đề &lt;script&gt;pwn()&lt;/script&gt; &lt;img src=x onerror=pwn()&gt; độc hại">
<meta property="og:description" content="&lt;iframe src=javascript:pwn()&gt;&lt;/iframe&gt; Mô tả">
<meta property="og:image" content="javascript:pwn()">
<meta property="article:published_time" content="2020-12-22T17:05:00+07:00">
<meta name="author" content="&lt;svg onload=pwn()&gt;">
<script type="application/ld+json">{{"@type": "NewsArticle",
 "headline": "Tiêu đề \\u003cscript\\u003epwn()\\u003c/script\\u003e độc hại",
 "image": ["data:image/png;base64,AAAA", "javascript:pwn()"],
 "author": {{"@type": "Person", "name": "<img src=x onerror=pwn()>"}},
 "datePublished": "2020-12-22T17:05:00+07:00"}}</script>
</head><body><article><h1>Tiêu đề <script>pwn()</script> độc hại</h1>
<p class="sapo">Tóm tắt <img src=x onerror=pwn()> của bài.</p>
<p>Đây là đoạn văn thứ nhất của bài báo, đủ dài để là nội dung chính của trang này.</p>
<p>Đoạn văn thứ hai kể thêm chi tiết về sự kiện, với nhiều câu chữ hơn nữa cho bài báo.</p>
<p>Đoạn văn thứ ba kết thúc bài viết bằng một nhận định của phóng viên về sự kiện này.</p>
</article></body></html>"""

PLAIN = ("binh-thuong-1", "binh-thuong-2")

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_FORBIDDEN_TEXT = ("<script", "<iframe", "<frame", "<svg", "<math", "<style", "<object",
                   "<embed", "<noscript", "<base", "<meta", "<link", "<form", "javascript:",
                   "vbscript:")
_HANDLER_ATTR = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_DATA_URL_ATTR = re.compile(r"""\s(?:href|src|srcset|action|formaction|data|poster)\s*=\s*["']?\s*
                            data:""", re.IGNORECASE | re.VERBOSE)
_BAD_TAGS = frozenset({"script", "iframe", "frame", "frameset", "svg", "math", "style", "object",
                       "embed", "noscript", "base", "meta", "link", "form", "button", "mglyph",
                       "maction", "template"})
_URL_ATTRS = frozenset({"href", "src", "srcset", "action", "formaction", "data", "poster",
                        "xlink:href", "background", "cite"})


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _xml_strings(data: bytes) -> Iterator[tuple[str, str]]:
    """(where, string) for every text and attribute value of an XML feed."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    for el in root.iter():
        tag = etree.QName(el).localname if isinstance(el.tag, str) else "?"
        if el.text:
            yield tag, el.text
        for k, v in el.attrib.items():
            yield f"{tag}@{k}", v


def _html_problems(where: str, html: str) -> Iterator[str]:
    """What a browser rendering ``html`` (a feed's HTML field) could run or load."""
    if not html.strip() or "<" not in html:
        return
    for el in lxml.html.fragment_fromstring(html, create_parent="div").iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.split("}")[-1].lower()
        if tag in _BAD_TAGS:
            yield f"{where}: <{tag}> in {html[:300]!r}"
        for k, v in el.attrib.items():
            name = k.split("}")[-1].lower()
            if name.startswith("on"):
                yield f"{where}: {name}= in {html[:300]!r}"
            if name == "style" and ("url(" in v or "expression" in v):
                yield f"{where}: style={v!r}"
            value = re.sub(r"[\x00-\x20]", "", v).lower()
            if name in _URL_ATTRS and value.startswith(("javascript:", "vbscript:", "data:")):
                yield f"{where}: {name}={v!r}"


def _problems(where: str, strings: Iterator[tuple[str, str]]) -> list[str]:
    """Every hostile construct in the (unescaped) strings of one feed file."""
    found: list[str] = []
    for field_name, s in strings:
        at = f"{where} {field_name}"
        if _CONTROL.search(s):
            found.append(f"{at}: control character in {s[:200]!r}")
        low = s.lower()
        found += [f"{at}: {bad!r} in {s[:300]!r}" for bad in _FORBIDDEN_TEXT if bad in low]
        if _HANDLER_ATTR.search(s):
            found.append(f"{at}: event handler in {s[:300]!r}")
        if _DATA_URL_ATTR.search(s):
            found.append(f"{at}: data: URL in {s[:300]!r}")
        found += _html_problems(at, s)
    return found


@dataclass(frozen=True)
class Run:
    site: SiteServer
    pages: dict[str, str]  # URL -> trick
    results: dict[str, dict[str, Any]]
    files: dict[str, bytes]


def _build(srv: SiteServer, routes: dict[str, Reply]) -> tuple[list[dict[str, object]],
                                                                dict[str, str]]:
    pages: dict[str, str] = {}

    def add(sid: str, slug: str, html: str) -> str:
        path = f"/{sid}/{slug}-bai-hostile.html"
        routes[path] = Reply.html(html.replace("{url}", srv.url(path)), etag=False)
        pages[srv.url(path)] = slug
        return path

    doc = [add("doc", slug, article_html("{url}", f"Bài thử {slug} trên trang", body=body))
           for slug, body in TRICKS.items()]
    doc += [add("doc", slug, article_html("{url}", f"Bài {slug} không có mẹo")) for slug in PLAIN]
    routes["/doc/"] = Reply.html(listing_html(doc))
    meta = [add("meta", "metadata", META_PAGE.replace("{canonical}", "{url}")),
            add("meta", PLAIN[0], article_html("{url}", "Bài thường bên cạnh"))]
    routes["/meta/"] = Reply.html(listing_html(meta))
    # A listing whose links sit 100,000 elements deep, and a plain source beside it.
    routes["/sau/"] = Reply.html(listing_html(["/sau/bai-sau-mot.html"]).replace(
        "<main>", "<main>" + "<div>" * DEPTH).replace("</main>", "</div>" * DEPTH + "</main>"))
    routes["/sau/bai-sau-mot.html"] = Reply.html(
        article_html(srv.url("/sau/bai-sau-mot.html"), "Bài sau danh sách sâu"), etag=False)
    routes["/thuong/"] = Reply.html(listing_html(["/thuong/bai-thuong-mot.html"]))
    routes["/thuong/bai-thuong-mot.html"] = Reply.html(
        article_html(srv.url("/thuong/bai-thuong-mot.html"), "Bài của nguồn thường"), etag=False)
    # A malformed URL ("http://[::1", an unclosed IPv6 literal) in an image: the page may fail,
    # its neighbour must still be published.
    bad = [add("ipv6", "ipv6-img", article_html("{url}", "Bài có ảnh hỏng",
                                                 body='<img src="http://[::1/a.jpg" alt="x">')),
           add("ipv6", PLAIN[0], article_html("{url}", "Bài thường cạnh ảnh hỏng"))]
    routes["/ipv6/"] = Reply.html(listing_html(bad))
    sources = [{"id": sid, "name": f"Nguồn {sid}", "url": srv.url(f"/{sid}/")}
               for sid in ("doc", "meta", "sau", "thuong", "ipv6")]
    return sources, pages


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """One run_once over all hostile pages, in a subprocess (a crash cannot take pytest down)."""
    tmp = tmp_path_factory.mktemp("hostile-html")
    routes: dict[str, Reply] = {}
    with SiteServer(routes.get) as srv:
        sources, pages = _build(srv, routes)
        config = write_config(
            tmp / "feeder.toml",
            {"out": str(tmp / "out"), "database": str(tmp / "feeder.db"), "host_delay": 0.0,
             "respect_robots": False, "workers": 4},
            sources)
        proc = subprocess.run([sys.executable, "-m", "tests.support.poll_run", str(config),
                               "--retries", "0"], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results = {r["source"]: r for r in json.loads(proc.stdout.splitlines()[-1])["results"]}
        yield Run(srv, pages, results, check_published(tmp / "out"))


def _feed_problems(run: Run, keys: Iterable[str]) -> list[str]:
    problems: list[str] = []
    for key in keys:
        for name in ("rss.xml", "atom.xml"):
            problems += _problems(f"{key}/{name}", _xml_strings(run.files[f"{key}/{name}"]))
        problems += _problems(f"{key}/feed.json", (
            ("json", s) for s in _strings(json.loads(run.files[f"{key}/feed.json"]))))
    return problems


def test_hostile_pages_never_crash_a_run(run: Run) -> None:
    for sid, r in run.results.items():
        if sid == "ipv6":
            continue  # below
        assert "internal error" not in (r["error"] or ""), r
        assert not any("internal error" in f for f in r["failed_pages"]), r
        assert r["status"] == "ok", r
    assert run.results["thuong"]["new"] == 1
    assert run.results["sau"]["new"] in (0, 1)  # its links may be out of the parser's reach
    published: set[str] = set()
    failed = ""
    for sid in ("doc", "meta", "ipv6"):
        published |= {i["url"] for i in json.loads(run.files[f"{sid}/feed.json"])["items"]}
        failed += " ".join(run.results[sid]["failed_pages"])
    for slug in PLAIN:
        assert run.site.url(f"/doc/{slug}-bai-hostile.html") in published
    assert run.site.url(f"/meta/{PLAIN[0]}-bai-hostile.html") in published
    # Every hostile page is accounted for: published (and checked below) or a per-page error.
    for url, slug in run.pages.items():
        assert (url in published) != (url in failed), (slug, url in published, failed)
    # Most tricks come through sanitised rather than as errors (else the checks prove little).
    assert len([u for u in run.pages if u in published]) >= len(TRICKS) - 3, failed


def test_a_page_that_crashes_the_extractor_fails_alone(run: Run) -> None:
    r = run.results["ipv6"]
    assert r["status"] == "ok" and r["new"] >= 1, r
    items = {i["url"] for i in json.loads(run.files["ipv6/feed.json"])["items"]}
    assert run.site.url(f"/ipv6/{PLAIN[0]}-bai-hostile.html") in items
    bad = run.site.url("/ipv6/ipv6-img-bai-hostile.html")
    assert (bad in items) != any(f.startswith(bad) for f in r["failed_pages"]), r


def test_extract_survives_a_malformed_url() -> None:
    url = "http://127.0.0.1:1/doc/x.html"
    for frag in ('<img src="http://[::1/a.jpg" alt="x">',
                 '<link rel="canonical" href="http://[oops/x.html">',
                 '<meta property="og:image" content="http://[::1">'):
        html = article_html(url, "Bài thử", body=frag).replace("</head>", frag + "</head>")
        with contextlib.suppress(ExtractError):
            extract(html, url)


def test_discover_skips_a_malformed_link() -> None:
    base = "http://127.0.0.1:1/a/"
    html = listing_html(["/a/bai-1-tin-tuc-trong-ngay.html", "http://[::1/bai-2-tin-tuc.html"])
    page = Page(url=base, final_url=base, status=200, content=html.encode(), text=html,
                encoding="utf-8", content_type="text/html", cache=CacheInfo(), elapsed_ms=1.0)
    found = links(page, Source(id="a", name="a", urls=(base,)))
    assert [link.url for link in found] == [base + "bai-1-tin-tuc-trong-ngay.html"]


def test_hostile_markup_in_article_pages_never_reaches_a_feed(run: Run) -> None:
    problems = _feed_problems(run, ("doc", "sau", "thuong"))
    assert not problems, "\n".join(problems)


def test_hostile_metadata_never_reaches_a_feed(run: Run) -> None:
    problems = _feed_problems(run, ("meta", "all"))
    assert not problems, "\n".join(problems)


def test_embed_does_not_swallow_the_rest_of_the_article() -> None:
    url = "http://127.0.0.1:1/doc/embed.html"
    html = article_html(url, "Bài có video nhúng", body='<p>Đoạn mở đầu của bài báo.</p>'
                        '<embed src="https://video.example/v.swf" type="application/x-shockwave-'
                        'flash">')
    article = extract(html, url)
    assert "Đoạn văn thứ ba kết thúc bài viết" in article.content_html

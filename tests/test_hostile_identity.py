"""An item's identity against hostile links (issue 9): tracking parameters, a canonical link that
points at another article, and one article under several URLs without a canonical link. Real
loopback site, real SQLite, every published format and its .gz read back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from feeder.config import Config
from tests.support import hostile
from tests.support.http import LoopbackServer
from tests.support.site import article_html, listing_html

TITLE = "Hội nghị tổng kết công tác năm của tỉnh"
_CANONICAL_RE = re.compile(r"<link rel=\"canonical\"[^>]*>\n?")


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def without_canonical(html: str) -> str:
    stripped = _CANONICAL_RE.sub("", html)
    assert stripped != html
    return stripped


def items(cfg: Config, sid: str) -> dict[str, list[tuple[str, str]]]:
    """(link, title) of each item, per format (plain and .gz)."""
    return {label: sorted((e["link"], e["title"]) for e in entries)
            for label, entries in hostile.feed_entries(cfg.settings.out, sid).items()}


def make(site: LoopbackServer, tmp_path: Path, sid: str = "thu") -> Config:
    return hostile.config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                          hostile.source(sid, site.url("/thoi-su/")))


TRACKING = ["ref=home", "ref=menu", "ref=footer", "ref=zalo", "ref=hot", "ref=top", "ref=box",
            "ref=rss", "ref=widget", "ref=sidebar", "ref=related", "ref=mobile", "ref=amp",
            "ref=banner", "ref=push", "ref=mail", "utm_source=fb&utm_medium=social",
            "fbclid=IwAR0abc", "gclid=Cj0KCQ", "ref=x&utm_campaign=tet"]


def test_twenty_ref_variants_without_canonical_are_one_item(site: LoopbackServer,
                                                            tmp_path: Path) -> None:
    assert len(TRACKING) == 20
    url = site.url("/thoi-su/bai-1.html")
    site.route("/thoi-su/bai-1.html", without_canonical(article_html(url, TITLE)))
    site.route("/thoi-su/", listing_html(f"{url}?{q}" for q in TRACKING))
    cfg = make(site, tmp_path)
    [result] = hostile.poll(cfg)
    assert result.new == 1 and result.fetched == 1, result
    for label, got in items(cfg, "thu").items():
        assert got == [(url, TITLE)], label


def test_a_canonical_link_does_not_take_over_another_listed_article(site: LoopbackServer,
                                                                    tmp_path: Path) -> None:
    # b's template names a's URL as canonical; a is listed and is its own canonical, with
    # another headline: b keeps its own URL, a keeps its identity and its headline.
    a, b = site.url("/thoi-su/a-1.html"), site.url("/thoi-su/b-2.html")
    site.route("/thoi-su/a-1.html", article_html(a, f"{TITLE} A", minute=1))
    site.route("/thoi-su/b-2.html", article_html(a, "Khánh thành cầu mới B", minute=2))
    site.route("/thoi-su/", listing_html([b, a]))
    cfg = make(site, tmp_path)
    [result] = hostile.poll(cfg)
    assert result.new == 2, result
    for label, got in items(cfg, "thu").items():
        assert got == [(a, f"{TITLE} A"), (b, "Khánh thành cầu mới B")], label


def test_a_canonical_link_does_not_take_over_a_stored_listed_article(site: LoopbackServer,
                                                                     tmp_path: Path) -> None:
    a, b = site.url("/thoi-su/a-1.html"), site.url("/thoi-su/b-2.html")
    site.route("/thoi-su/a-1.html", article_html(a, f"{TITLE} A", minute=1))
    site.route("/thoi-su/", listing_html([a]))
    cfg = make(site, tmp_path)
    [first] = hostile.poll(cfg)
    assert first.new == 1, first
    # Next poll: b appears, claiming a's URL; a is still listed (and not due for a re-check).
    site.route("/thoi-su/b-2.html", article_html(a, "Khánh thành cầu mới B", minute=2))
    site.route("/thoi-su/", listing_html([b, a]))
    [second] = hostile.poll(cfg)
    assert second.new == 1 and second.updated == 0, second
    for label, got in items(cfg, "thu").items():
        assert got == [(a, f"{TITLE} A"), (b, "Khánh thành cầu mới B")], label


def test_a_canonical_link_to_an_unlisted_url_is_still_the_id(site: LoopbackServer,
                                                              tmp_path: Path) -> None:
    # The ordinary case the rule must keep: a listing links a mobile/print URL, the page names
    # the article's URL as canonical; one item under the canonical URL.
    canonical = site.url("/thoi-su/a-1.html")
    variant = site.url("/thoi-su/a-1.html?view=print")
    site.route("/thoi-su/a-1.html", article_html(canonical, TITLE))
    site.route("/thoi-su/", listing_html([variant]))
    cfg = make(site, tmp_path)
    [result] = hostile.poll(cfg)
    assert result.new == 1, result
    for label, got in items(cfg, "thu").items():
        assert got == [(canonical, TITLE)], label


def test_identical_pages_under_different_urls_without_canonical_are_one_item(
        site: LoopbackServer, tmp_path: Path) -> None:
    base = site.url("/thoi-su/c-3.html")
    site.route("/thoi-su/c-3.html", without_canonical(article_html(base, TITLE)))
    site.route("/thoi-su/", listing_html([f"{base}?from=home", f"{base}?from=menu"]))
    cfg = make(site, tmp_path)
    [first] = hostile.poll(cfg)
    assert first.new == 1 and first.fetched == 2, first
    # Another poll lists a third spelling: still the same item, not new, not an edit.
    site.route("/thoi-su/", listing_html([f"{base}?from=search"]))
    [second] = hostile.poll(cfg)
    assert second.new == 0 and second.updated == 0 and second.fetched == 1, second
    for label, got in items(cfg, "thu").items():
        assert got == [(f"{base}?from=home", TITLE)], label


def test_different_pages_without_canonical_stay_apart(site: LoopbackServer,
                                                      tmp_path: Path) -> None:
    one, two = site.url("/thoi-su/d-4.html?id=1"), site.url("/thoi-su/d-4.html?id=2")
    routes = {"1": article_html(one, f"{TITLE} một", minute=1),
              "2": article_html(two, f"{TITLE} hai", minute=2)}

    def by_id(h: BaseHTTPRequestHandler) -> None:
        body = without_canonical(routes[h.path.rsplit("=", 1)[1]]).encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site.route("/thoi-su/d-4.html", by_id)
    site.route("/thoi-su/", listing_html([one, two]))
    cfg = make(site, tmp_path)
    [result] = hostile.poll(cfg)
    assert result.new == 2, result
    for label, got in items(cfg, "thu").items():
        assert got == [(one, f"{TITLE} một"), (two, f"{TITLE} hai")], label

"""The preview server on a real socket: types, validators, 304s, gzip, confinement."""

from __future__ import annotations

import gzip
import http.client
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from feeder.serve import PreviewServer, accepts_gzip, serve_in_thread
from tests.test_publish_fixtures import publish_all


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PreviewServer]:
    out = tmp_path_factory.mktemp("site")
    publish_all(out)
    (out / ".hidden").write_text("secret")
    srv, thread = serve_in_thread(out, "127.0.0.1", 0)
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def get(server: PreviewServer, path: str, headers: dict[str, str] | None = None,
        method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize(("path", "ctype"), [
    ("/baocamau/rss.xml", "application/rss+xml; charset=utf-8"),
    ("/baocamau/atom.xml", "application/atom+xml; charset=utf-8"),
    ("/baocamau/feed.json", "application/feed+json; charset=utf-8"),
    ("/all/rss.xml", "application/rss+xml; charset=utf-8"),
    ("/", "text/html; charset=utf-8"),
    ("/feeds.opml", "text/x-opml; charset=utf-8"),
    ("/status.json", "application/json; charset=utf-8"),
    ("/static/feed.xsl", "text/xsl; charset=utf-8"),
])
def test_content_types(server: PreviewServer, path: str, ctype: str) -> None:
    resp, body = get(server, path)
    assert resp.status == 200
    assert resp.getheader("Content-Type") == ctype
    assert resp.getheader("Content-Length") == str(len(body))
    assert resp.getheader("ETag") and resp.getheader("Last-Modified")
    assert resp.getheader("Cache-Control", "").startswith(("public, max-age=", "no-cache"))
    assert resp.getheader("Content-Encoding") is None  # the client did not ask for gzip


def test_body_is_the_file(server: PreviewServer) -> None:
    _, body = get(server, "/baocamau/rss.xml")
    assert body == (server.directory / "baocamau" / "rss.xml").read_bytes()


def test_if_none_match_gives_304(server: PreviewServer) -> None:
    first, _ = get(server, "/baocamau/atom.xml")
    tag = first.getheader("ETag")
    resp, body = get(server, "/baocamau/atom.xml", {"If-None-Match": tag})
    assert resp.status == 304 and body == b""
    assert resp.getheader("ETag") == tag
    weak, _ = get(server, "/baocamau/atom.xml", {"If-None-Match": f'"x", W/{tag}'})
    assert weak.status == 304
    other, _ = get(server, "/baocamau/atom.xml", {"If-None-Match": '"other"'})
    assert other.status == 200


def test_if_modified_since_gives_304(server: PreviewServer) -> None:
    first, _ = get(server, "/baocamau/rss.xml")
    lm = first.getheader("Last-Modified")
    resp, body = get(server, "/baocamau/rss.xml", {"If-Modified-Since": lm})
    assert resp.status == 304 and body == b""
    old, _ = get(server, "/baocamau/rss.xml",
                 {"If-Modified-Since": "Tue, 22 Dec 2020 10:05:00 GMT"})
    assert old.status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    both, _ = get(server, "/baocamau/rss.xml",
                  {"If-None-Match": '"other"', "If-Modified-Since": lm})
    assert both.status == 200


def test_gzip_from_sibling(server: PreviewServer) -> None:
    resp, body = get(server, "/baocamau/feed.json", {"Accept-Encoding": "gzip, deflate"})
    assert resp.status == 200
    assert resp.getheader("Content-Encoding") == "gzip"
    assert resp.getheader("Content-Type") == "application/feed+json; charset=utf-8"
    assert resp.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(body) == (server.directory / "baocamau" / "feed.json").read_bytes()
    # The compressed variant has its own validator, and it answers 304 too.
    tag = resp.getheader("ETag")
    again, _ = get(server, "/baocamau/feed.json", {"Accept-Encoding": "gzip", "If-None-Match": tag})
    assert again.status == 304
    refused, _ = get(server, "/baocamau/feed.json", {"Accept-Encoding": "gzip;q=0"})
    assert refused.getheader("Content-Encoding") is None


def test_head(server: PreviewServer) -> None:
    resp, body = get(server, "/baocamau/rss.xml", method="HEAD")
    assert resp.status == 200 and body == b""
    size = (server.directory / "baocamau" / "rss.xml").stat().st_size
    assert resp.getheader("Content-Length") == str(size)


@pytest.mark.parametrize("path", ["/nope.xml", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                                  "/.hidden", "/baocamau/.rss.xml.tmp"])
def test_not_found_and_confined(server: PreviewServer, path: str) -> None:
    resp, _ = get(server, path)
    assert resp.status == 404


def test_folder_redirects_to_slash(server: PreviewServer) -> None:
    resp, _ = get(server, "/static")
    assert resp.status == 301 and resp.getheader("Location") == "/static/"


@pytest.mark.parametrize(("header", "ok"), [
    (None, False), ("", False), ("gzip", True), ("br, gzip;q=0.5", True), ("gzip;q=0", False),
    ("identity", False), ("*", True), ("GZIP", True),
])
def test_accepts_gzip(header: str | None, ok: bool) -> None:
    assert accepts_gzip(header) is ok


def test_make_server_binds_loopback(tmp_path: Path) -> None:
    srv, thread = serve_in_thread(tmp_path)
    try:
        assert srv.url.startswith("http://127.0.0.1:")
        resp, _ = get(srv, "/")
        assert resp.status == 404  # nothing published yet
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def test_feed_cache_control_follows_the_poll_interval(tmp_path: Path) -> None:
    """The preview server reads the map publish_site writes: a feed is cached for its interval."""
    from feeder.serve import make_server

    out = tmp_path / "public"
    publish_all(out)
    server = make_server(out, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for path, want in (("/baocamau/rss.xml", "public, max-age=900"),
                           ("/baohaugiang/atom.xml", "public, max-age=3600"),
                           ("/all/feed.json", "public, max-age=900"),
                           ("/.feeder/cache-control.map", None)):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if want is None:
                assert resp.status == 404
            else:
                assert resp.status == 200 and resp.getheader("Cache-Control") == want
    finally:
        server.shutdown()
        server.server_close()

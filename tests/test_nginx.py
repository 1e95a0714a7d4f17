"""deploy/nginx/feeder.conf under a real nginx, over a freshly published output folder.

nginx runs as a subprocess on a free loopback port with the deploy file included verbatim except
for ``listen`` and ``root``. Skipped (with the reason shown by ``-ra``) when nginx is not
installed: ``apt-get install nginx`` (Debian/Ubuntu); ``.ci/run`` installs it, so CI always runs
this. tests/test_newsboat.py reads the feeds through the same server.
"""

from __future__ import annotations

import gzip
import http.client
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_publish_fixtures import publish_all

DEPLOY_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "feeder.conf"


def find_nginx() -> str | None:
    """The nginx binary (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_block(out: Path, port: int) -> str:
    """deploy's server block listening on 127.0.0.1:``port`` and serving ``out``."""
    conf = DEPLOY_CONF.read_text("utf-8")
    conf, listens = re.subn(r"^(\s*)listen 80;$", rf"\1listen 127.0.0.1:{port};", conf, flags=re.M)
    conf = re.sub(r"^\s*listen \[::\]:80;\n", "", conf, flags=re.M)
    conf, roots = re.subn(r"^(\s*)root \S+;$", rf"\1root {out};", conf, flags=re.M)
    conf, maps = re.subn(r"include /\S+/\.feeder/\*\.map;", f"include {out}/.feeder/*.map;", conf)
    conf, links = re.subn(r"include /\S+/\.feeder/websub\*\.links;",
                          f"include {out}/.feeder/websub*.links;", conf)
    assert listens == 1 and roots == 1 and maps == 1 and links == 1, \
        "deploy/nginx/feeder.conf changed shape"
    return conf


@dataclass
class Nginx:
    port: int
    out: Path

    def get(self, path: str, headers: dict[str, str] | None = None
            ) -> tuple[http.client.HTTPResponse, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return resp, resp.read()
        finally:
            conn.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def start_nginx(workdir: Path, out: Path,
                port: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """Run nginx in the foreground with deploy's server block; return it once it accepts."""
    binary = find_nginx()
    assert binary
    port = port or free_port()
    write_nginx_conf(workdir, out, port)
    test = subprocess.run([binary, "-t", "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
                          capture_output=True, text=True, check=False)
    assert test.returncode == 0, test.stderr
    proc = subprocess.Popen([binary, "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return _wait_listening(proc, workdir, port)


def write_nginx_conf(workdir: Path, out: Path, port: int) -> Path:
    """An nginx.conf in ``workdir`` around deploy's server block, serving ``out`` on ``port``."""
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    (workdir / "server.conf").write_text(server_block(out, port), "utf-8")
    # A single foreground process: no daemon, no user switch (so root can read the pytest tmp
    # folder, which is 0700), every path inside workdir.
    (workdir / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {workdir}/logs/access.log;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    sendfile on;
    include {workdir}/server.conf;
}}
""", "utf-8")
    return workdir / "nginx.conf"


def _wait_listening(proc: subprocess.Popen[bytes], workdir: Path,
                    port: int) -> tuple[subprocess.Popen[bytes], int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (workdir / "logs" / "error.log").read_text(errors="replace")
            raise AssertionError(f"nginx exited with {proc.returncode}: {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("nginx did not start listening")


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """nginx serving a freshly published site whose base_url is nginx's own address."""
    if find_nginx() is None:
        pytest.skip("nginx is not installed (apt-get install nginx); deploy config not tested")
    root = tmp_path_factory.mktemp("nginx")
    out = root / "public"
    out.mkdir()
    port = free_port()
    # Published before nginx starts (it reads the Cache-Control map at start), with self links
    # pointing where the feeds really are.
    publish_all(out, base_url=f"http://127.0.0.1:{port}/")
    proc, port = start_nginx(root / "run", out, port)
    try:
        yield Nginx(port, out)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(("path", "ctype", "cache"), [
    # Feeds are cached for their source's poll interval: 15 min, 1 h; "all" the shortest.
    ("/baocamau/rss.xml", "application/rss+xml; charset=utf-8", "public, max-age=900"),
    ("/baocamau/atom.xml", "application/atom+xml; charset=utf-8", "public, max-age=900"),
    ("/baocamau/feed.json", "application/feed+json; charset=utf-8", "public, max-age=900"),
    ("/baohaugiang/rss.xml", "application/rss+xml; charset=utf-8", "public, max-age=3600"),
    ("/all/atom.xml", "application/atom+xml; charset=utf-8", "public, max-age=900"),
    ("/", "text/html; charset=utf-8", "public, max-age=60"),
    ("/feeds.opml", "text/x-opml; charset=utf-8", "public, max-age=300"),
    ("/status.json", "application/json; charset=utf-8", "no-cache"),
    ("/static/feed.xsl", "text/xsl; charset=utf-8", "public, max-age=3600"),
])
def test_status_type_and_cache_control(nginx: Nginx, path: str, ctype: str, cache: str) -> None:
    resp, body = nginx.get(path)
    assert resp.status == 200
    assert resp.getheader("Content-Type") == ctype
    assert resp.getheader("Cache-Control") == cache
    assert resp.getheader("ETag") and resp.getheader("Last-Modified")
    file = nginx.out / (path.lstrip("/") or "index.html")
    assert body == file.read_bytes()


def test_if_none_match_gives_304(nginx: Nginx) -> None:
    first, _ = nginx.get("/baocamau/rss.xml")
    resp, body = nginx.get("/baocamau/rss.xml", {"If-None-Match": first.getheader("ETag")})
    assert resp.status == 304 and body == b""


def test_if_modified_since_gives_304(nginx: Nginx) -> None:
    first, _ = nginx.get("/baocamau/atom.xml")
    resp, body = nginx.get("/baocamau/atom.xml",
                           {"If-Modified-Since": first.getheader("Last-Modified")})
    assert resp.status == 304 and body == b""
    old, _ = nginx.get("/baocamau/atom.xml", {"If-Modified-Since": "Tue, 22 Dec 2020 10:00:00 GMT"})
    assert old.status == 200


def test_republishing_unchanged_keeps_validators(nginx: Nginx) -> None:
    first, _ = nginx.get("/all/rss.xml")
    assert publish_all(nginx.out, base_url=nginx.url("/")) == []
    resp, _ = nginx.get("/all/rss.xml", {"If-None-Match": first.getheader("ETag")})
    assert resp.status == 304


def test_gzip_static(nginx: Nginx) -> None:
    resp, body = nginx.get("/baocamau/feed.json", {"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.getheader("Content-Encoding") == "gzip"
    assert resp.getheader("Content-Type") == "application/feed+json; charset=utf-8"
    assert "Accept-Encoding" in (resp.getheader("Vary") or "")
    assert body == (nginx.out / "baocamau" / "feed.json.gz").read_bytes()
    assert gzip.decompress(body) == (nginx.out / "baocamau" / "feed.json").read_bytes()
    again, _ = nginx.get("/baocamau/feed.json",
                         {"Accept-Encoding": "gzip", "If-None-Match": resp.getheader("ETag")})
    assert again.status == 304
    plain, _ = nginx.get("/baocamau/feed.json")
    assert plain.getheader("Content-Encoding") is None


def test_hidden_files_are_not_served(nginx: Nginx) -> None:
    (nginx.out / "baocamau" / ".rss.xml.abc.tmp").write_text("half")
    resp, _ = nginx.get("/baocamau/.rss.xml.abc.tmp")
    assert resp.status == 404


def test_preview_server_agrees_with_nginx(nginx: Nginx) -> None:
    """`feeder serve` gives the same Content-Type and Cache-Control as production."""
    from feeder.serve import serve_in_thread

    srv, thread = serve_in_thread(nginx.out)
    try:
        for path in ("/baocamau/rss.xml", "/baocamau/atom.xml", "/baocamau/feed.json", "/",
                     "/feeds.opml", "/status.json", "/static/feed.xsl"):
            ours = http.client.HTTPConnection(*srv.server_address[:2], timeout=5)
            ours.request("GET", path)
            mine = ours.getresponse()
            mine.read()
            ours.close()
            theirs, _ = nginx.get(path)
            for header in ("Content-Type", "Cache-Control", "ETag", "Last-Modified"):
                assert mine.getheader(header) == theirs.getheader(header), (path, header)
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)

"""A generated news site on 127.0.0.1 for recovery tests and the poll bench.

Pieces, each usable alone:

* :func:`article_html` / :func:`listing_html`: pages feeder's extractor and discovery accept;
* :class:`SiteServer`: a threaded HTTP server on one or more loopback ports. A ``resolve(path)``
  callable answers each request with a :class:`Reply` (ETag / Last-Modified -> 304 like a static
  server) or a handler function (for hostile behaviour). It counts requests, signals the first
  one with an :class:`threading.Event`, and can add a per-request delay;
* :func:`generated_site`: ``n`` sources of ``m`` articles under ``/s<i>/`` (``bench/poll.py``
  serves it from a separate process: ``python -m tests.support.site --sources N --articles M``);
* :func:`write_config`: a ``feeder.toml`` for ``python -m feeder --config``;
* :func:`check_published`: every file under ``out/`` complete and well-formed.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import json
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lxml import etree

from tests.support.http import not_modified

ARTICLE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>{title} - Báo Thử Nghiệm</title>
<link rel="canonical" href="{canonical}">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
</head><body>
<nav class="menu"><a href="/">Trang chủ</a> <a href="/thoi-su/">Thời sự</a></nav>
<article><h1>{title}</h1>
<p class="sapo">Tóm tắt: {title}.</p>
{body}
<p>Ngày 22/12, hội nghị đã diễn ra. Đây là đoạn văn thứ nhất của bài báo, đủ dài để là nội dung
chính của trang.</p>
<p>Đoạn văn thứ hai kể thêm chi tiết về sự kiện, với nhiều câu chữ hơn nữa cho bài báo.</p>
<p>Đoạn văn thứ ba kết thúc bài viết bằng một nhận định của phóng viên về sự kiện này.</p>
<p><strong>Tin, ảnh: TRÍ NHÂN</strong></p>
</article>
<footer><a href="/lien-he.html">Liên hệ</a></footer>
</body></html>"""

LISTING = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Báo Thử Nghiệm</title></head><body>
<nav class="menu"><a href="/">Trang chủ</a> <a href="/thoi-su/">Thời sự</a></nav>
<main><ul class="news-list">{items}</ul></main>
<footer><a href="/lien-he.html">Liên hệ</a> <a href="/gioi-thieu.html">Giới thiệu</a></footer>
</body></html>"""


def article_html(canonical: str, title: str, *, body: str = "", minute: int = 0) -> str:
    """An article page; ``minute`` spreads publication times (distinct, stable sort order)."""
    day, rest = divmod(minute, 24 * 60)
    hour, mi = divmod(rest, 60)
    published = f"2020-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{hour:02d}:{mi:02d}:00+07:00"
    return ARTICLE.format(title=title, canonical=canonical, published=published, body=body)


def listing_html(hrefs: Iterable[str]) -> str:
    items = "".join(f'<li><h3><a href="{href}">Tin số {i} về một sự kiện quan trọng của tỉnh</a>'
                    f"</h3></li>" for i, href in enumerate(hrefs))
    return LISTING.format(items=items)


def article_title(source: int, n: int) -> str:
    return f"Bài {n} của nguồn {source}: hội nghị tổng kết công tác năm"


@functools.cache
def gzip_bomb() -> bytes:
    """~1 MB of gzip that inflates to 1 GB: 100 gzip members of 10 MB of zeros each (RFC 1952
    allows concatenated members). A client that inflated it whole would blow any RSS bound."""
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    member = z.compress(bytes(10 * 1024 * 1024)) + z.flush()
    return member * 100


# -- server ----------------------------------------------------------------------------------

@dataclass
class Reply:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def html(cls, text: str, *, etag: bool = True, **headers: str) -> Reply:
        data = text.encode("utf-8")
        hdrs = {"Content-Type": "text/html; charset=utf-8", **headers}
        if etag:
            hdrs.setdefault("ETag", '"' + hashlib.sha1(data).hexdigest()[:16] + '"')
        return cls(data, 200, hdrs)


Handler = Callable[[BaseHTTPRequestHandler], None]
Resolver = Callable[[str], "Reply | Handler | None"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many sources polled at once: keep the accept queue roomy.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up early (caps, deadlines, kill -9) are what tests provoke


class SiteServer:
    """Serves ``resolve(path)`` on ``ports`` loopback ports (each one a separate "host").

    ``stats`` counts requests (total, 200s, 304s, by path prefix via ``count_prefix``);
    ``first_request`` is set on the first request; ``stopping`` is set on close so that handlers
    that stall (timeouts, drips) stop early.
    """

    def __init__(self, resolve: Resolver, *, ports: int = 1, delay: float = 0.0) -> None:
        self.resolve = resolve
        self.delay = delay
        self.first_request = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.stats: dict[str, int] = {"requests": 0, "200": 0, "304": 0, "other": 0}
        self.paths: dict[str, int] = {}
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes: without this, Nagle's algorithm
                # and delayed ACKs add 40 ms to every response on a keep-alive connection.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/__stats":
                    with site.lock:
                        body = json.dumps({**site.stats, "paths": len(site.paths),
                                           "robots": site.paths.get("/robots.txt", 0)}).encode()
                    self._reply(200, body, {"Content-Type": "application/json"})
                    return
                with site.lock:
                    site.stats["requests"] += 1
                    site.paths[path] = site.paths.get(path, 0) + 1
                site.first_request.set()
                if site.delay:
                    site.stopping.wait(site.delay)
                answer = site.resolve(path)
                if answer is None:
                    self._count("other")
                    self._reply(404, b"not found", {"Content-Type": "text/plain"})
                    return
                if callable(answer):
                    self._count("other")
                    answer(self)
                    return
                validators = not_modified(answer.status, answer.headers, self.headers)
                if validators is not None:
                    self._count("304")
                    self._reply(304, b"", validators)
                else:
                    self._count("200" if answer.status == 200 else "other")
                    self._reply(answer.status, answer.body, answer.headers)

            def _count(self, key: str) -> None:
                with site.lock:
                    site.stats[key] += 1

            def _reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        self.handler_class = _Handler
        self._servers = [_Server(("127.0.0.1", 0), _Handler) for _ in range(ports)]
        self._threads = [threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True)
                         for s in self._servers]

    @property
    def ports(self) -> list[int]:
        return [s.server_address[1] for s in self._servers]

    def url(self, path: str = "/", port_index: int = 0) -> str:
        return f"http://127.0.0.1:{self.ports[port_index % len(self.ports)]}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return self.paths.get(path, 0)

    def __enter__(self) -> SiteServer:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for s in self._servers:
            s.shutdown()
            s.server_close()


# -- a generated site ------------------------------------------------------------------------

def generated_site(n_sources: int, n_articles: int,
                   base: Callable[[int], str]) -> Callable[[str], Reply | None]:
    """A resolver for ``n_sources`` listings ``/s<i>/`` of ``n_articles`` each.

    ``base(i)`` is the ``http://host:port`` of source ``i`` (for canonical links). Pages are
    rendered on demand (1,000 x 20 pages need not sit in memory) and carry a content ETag.
    """

    def resolve(path: str) -> Reply | None:
        parts = path.strip("/").split("/")
        if not parts or not parts[0].startswith("s") or not parts[0][1:].isdigit():
            return None
        i = int(parts[0][1:])
        if i >= n_sources:
            return None
        if len(parts) == 1:
            return Reply.html(listing_html(f"/s{i}/tin-{n}-hoi-nghi-tong-ket.html"
                                           for n in range(n_articles)))
        name = parts[1]
        if len(parts) == 2 and name.startswith("tin-") and name.endswith("-hoi-nghi-tong-ket.html"):
            n = name.split("-")[1]
            if n.isdigit() and int(n) < n_articles:
                return Reply.html(article_html(f"{base(i)}{path}", article_title(i, int(n)),
                                               minute=int(n)))
        return None

    return resolve


# -- configuration ---------------------------------------------------------------------------

def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def write_config(path: Path, settings: Mapping[str, object],
                 sources: Sequence[Mapping[str, object]]) -> Path:
    """Write a ``feeder.toml`` (an empty ``feeds`` folder beside it) and return its path."""
    lines = ["[feeder]"] + [f"{k} = {_toml_value(v)}" for k, v in settings.items()]
    for s in sources:
        lines += ["", "[[sources]]"] + [f"{k} = {_toml_value(v)}" for k, v in s.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (path.parent / "feeds").mkdir(exist_ok=True)
    return path


# -- published output ------------------------------------------------------------------------

_XML = etree.XMLParser(resolve_entities=False, no_network=True)


def is_temp_name(name: str) -> bool:
    return name.startswith(".")


def parse_feed(name: str, data: bytes) -> Any:
    """Parse one published file by its name; raises when it is not complete and well-formed."""
    if name.endswith((".xml", ".opml", ".xsl")):
        return etree.fromstring(data, _XML)
    if name.endswith(".json"):
        return json.loads(data)
    if name.endswith(".html"):
        text = data.decode("utf-8")
        assert text.rstrip().endswith("</html>"), "index.html is cut short"
        return text
    raise AssertionError(f"unexpected published file {name}")


def feed_ids(name: str, data: bytes) -> list[str]:
    """The item ids of a feed file (RSS guid, Atom id, JSON Feed id), in order."""
    doc = parse_feed(name, data)
    if name == "rss.xml":
        return [g.text for g in doc.iter("guid")]
    if name == "atom.xml":
        return [e.findtext("{http://www.w3.org/2005/Atom}id")
                for e in doc.iter("{http://www.w3.org/2005/Atom}entry")]
    if name == "feed.json":
        return [i["id"] for i in doc["items"]]
    raise AssertionError(name)


def check_published(out: Path, previous: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    """Check every file under ``out`` and return ``{relative path: bytes}`` of the public ones.

    * a file a web server would serve (no dot-component) parses completely (XML, JSON, HTML);
    * a ``.gz`` decompresses completely to its plain sibling's bytes, except after a crash
      between the renames of one set: the plain file (renamed first) is then a complete new
      version and the ``.gz`` still exactly the previous one;
    * leftovers of interrupted writes are dot-files (nginx's ``location ~ /\\.`` hides them).
    """
    files: dict[str, bytes] = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        rel = str(p.relative_to(out))
        if is_temp_name(p.name):
            assert p.name.endswith(".tmp"), f"unexpected hidden file {rel}"
            continue
        if any(is_temp_name(part) for part in p.relative_to(out).parts):
            continue  # in a hidden folder: private to feeder (nginx serves no dot-path)
        files[rel] = p.read_bytes()
    for rel, data in files.items():
        if rel.endswith(".gz"):
            plain = rel[:-3]
            assert plain in files or (previous is not None and plain not in previous), (
                f"{rel} without {plain}")
            inflated = gzip.decompress(data)  # raises on a cut-short file
            parse_feed(plain, inflated)
            if plain in files and inflated != files[plain]:
                # A crash between the renames of one set: the plain file (renamed first) is
                # new and its .gz still the previous version (the next build repairs it).
                assert previous is not None and inflated == previous.get(plain), (
                    f"{rel} differs from {plain}, and is not its previous version either")
        else:
            try:
                parse_feed(Path(rel).name, data)
            except Exception as exc:
                raise AssertionError(f"{rel} is not complete and well-formed: {exc}") from exc
    return files


def temp_files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob(".*"))


# -- as a separate process (bench) -----------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="serve a generated site on 127.0.0.1")
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--articles", type=int, default=20)
    ap.add_argument("--ports", type=int, default=1)
    args = ap.parse_args(argv)
    holder: dict[str, SiteServer] = {}

    def base(i: int) -> str:
        return holder["srv"].url("", i)

    srv = SiteServer(generated_site(args.sources, args.articles, base), ports=args.ports)
    holder["srv"] = srv
    with srv:
        print(json.dumps({"ports": srv.ports}), flush=True)
        # Serve until the parent closes our stdin (or dies).
        while sys.stdin.read(1):
            time.sleep(0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

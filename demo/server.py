"""Serves the demo newspaper (demo/site) on 127.0.0.1, like a small news site's static server.

    python demo/server.py --port 8081

Every file gets an ETag (a hash of its bytes) and a Last-Modified header; a conditional GET with a
matching If-None-Match, or with If-Modified-Since not older than the file, gets 304 Not Modified,
so feeder's second poll costs one small request. HTML is sent as ``text/html; charset=utf-8``.
The query string is ignored (``?utm_source=...`` reaches the same page), ``/section/`` serves
``section/index.html``, and ``robots.txt`` is a file of the site. The site has a news sitemap
(``/sitemap.xml``) and a truncated RSS feed (``/rss.xml``), for feeder's three source kinds.

Importable for tests: :func:`make_server` returns a ready, unstarted server bound to a port.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import os
import re
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from html import escape
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

from feeder.serve import not_modified

SITE = Path(__file__).resolve().parent / "site"
DEMO_ORIGIN = "127.0.0.1:8081"  # the host:port demo/site's sitemap.xml and rss.xml are written for


# -- the live desk: a short bulletin every few minutes, for `make demo` ------------------------
# The rest of the site is a fixed December 2020 paper. With --live-every 120, the section
# /tin-moi/ gains bulletin number k at start + k * 120 s: during a demo new articles keep
# arriving, feeder publishes them and tells the WebSub hub, the index page's chart grows and older
# items move to the archives. Without it (the tests) the section is an empty listing.

VN = timezone(timedelta(hours=7))
LISTED = 10  # bulletins on the listing page, newest first

_TOPICS = (
    ("Mực nước sông Tiền dâng cao, các xã ven sông chủ động gia cố bờ bao",
     "Đài Khí tượng thủy văn tỉnh cho biết mực nước trên sông Tiền tiếp tục lên theo triều."),
    ("Giá lúa tại các chợ nông thôn ổn định trong ngày",
     "Thương lái thu mua lúa tươi tại ruộng với giá không đổi so với hôm qua."),
    ("Phà Bình Hòa tăng chuyến phục vụ người dân đi lại",
     "Bến phà bổ sung hai chuyến mỗi giờ vào giờ cao điểm sáng và chiều."),
    ("Trường học trên địa bàn tỉnh tổ chức diễn tập phòng cháy chữa cháy",
     "Học sinh và giáo viên được hướng dẫn thoát nạn và sử dụng bình chữa cháy."),
)


def _published(start: float, every: float, k: int) -> datetime:
    return datetime.fromtimestamp(start + k * every, UTC).astimezone(VN).replace(microsecond=0)


def live_latest(now: float, start: float, every: float | None) -> int:
    """The number of the newest bulletin out by ``now`` (-1: none, or the desk is off)."""
    if not every or now < start:
        return -1
    return int((now - start) // every)


def live_listing(now: float, start: float, every: float | None) -> bytes:
    newest = live_latest(now, start, every)
    items = "\n".join(
        f'<li><a href="/tin-moi/ban-tin-{k}.html">{escape(_TOPICS[k % len(_TOPICS)][0])} '
        f"(số {k + 1})</a></li>" for k in range(newest, max(-1, newest - LISTED), -1))
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
            f"<title>Tin mới - Báo Tân Phước</title></head><body><h1>Tin mới</h1>"
            f'<ul class="news-list">\n{items}\n</ul></body></html>\n').encode()


def live_article(k: int, now: float, start: float, every: float | None) -> bytes | None:
    """Bulletin ``k``'s page, or None when it is not out yet."""
    if k < 0 or k > live_latest(now, start, every):
        return None
    assert every
    title, lead = _TOPICS[k % len(_TOPICS)]
    title = f"{title} (số {k + 1})"
    when = _published(start, every, k)
    path = f"/tin-moi/ban-tin-{k}.html"
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{escape(title)} - Báo Tân Phước</title>
<link rel="canonical" href="{path}">
<meta property="og:type" content="article">
<meta property="og:title" content="{escape(title)}">
<meta property="og:description" content="{escape(lead)}">
<meta property="article:published_time" content="{when.isoformat()}">
</head>
<body>
<article class="detail">
<h1 class="detail-title">{escape(title)}</h1>
<div class="detail-meta"><span class="time">{when.strftime("%d/%m/%Y, %H:%M")} (GMT+7)</span></div>
<p class="sapo"><strong>{escape(lead)}</strong></p>
<div class="detail-content">
<p>{escape(lead)} Bản tin số {k + 1} của ban biên tập trực tuyến, cập nhật lúc
{when.strftime("%H:%M")} ngày {when.strftime("%d/%m/%Y")}.</p>
<p>Người dân cần thông tin thêm có thể liên hệ đường dây nóng của tòa soạn.</p>
<p style="text-align:right"><strong>BAN TIN MỚI</strong></p>
</div>
</article>
</body>
</html>
""".encode()


class DemoHandler(SimpleHTTPRequestHandler):
    """Static files with strong ETags and 304 answers; quiet unless ``verbose``."""

    extensions_map = {  # noqa: RUF012 - the base class declares it as a plain class attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".css": "text/css; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
    }
    verbose = False
    server_version = "TanPhuocDemo/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive, like a real site

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)

    live_every: float | None = None  # seconds between two live bulletins (demo/live.py)
    live_start = 0.0

    def _live(self) -> tuple[bytes, int] | None:
        """The live desk's page for this request (listing or bulletin), if it is one."""
        route = self.path.split("?")[0]
        now = time.time()
        if route == "/tin-moi/":
            return live_listing(now, self.live_start, self.live_every), int(now)
        match = re.fullmatch(r"/tin-moi/ban-tin-(\d+)\.html", route)
        if match:
            k = int(match.group(1))
            data = live_article(k, now, self.live_start, self.live_every)
            if data is not None:
                return data, int(self.live_start + k * (self.live_every or 0))
        return None

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        dynamic = self._live() if self.path.startswith("/tin-moi/") else None
        if dynamic is not None:
            data, mtime = dynamic
            path = path / "index.html" if path.suffix != ".html" else path
        else:
            if path.is_dir():
                if not self.path.split("?")[0].endswith("/"):
                    return super().send_head()  # the base class redirects to the slash form
                path = path / "index.html"
            if not path.is_file():
                self.send_error(HTTPStatus.NOT_FOUND, "Not found")
                return None
            data = path.read_bytes()
            if path.suffix == ".xml":
                data = self._on_this_origin(data)
            mtime = int(os.stat(path).st_mtime)
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        # The preview server's rule, so the demo site and `feeder serve` answer alike.
        if not_modified(self.headers, etag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", last_modified)
        self.send_header("Cache-Control", "max-age=60")
        self.end_headers()
        return BytesIO(data)


    def _on_this_origin(self, data: bytes) -> bytes:
        """The sitemap and the feed hold absolute URLs (the protocols want them) written for
        ``make demo``'s port; a server started elsewhere (tests use free ports) names its own,
        as a real site's generated sitemap does."""
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        return data.replace(b"http://" + DEMO_ORIGIN.encode(), b"http://" + host.encode())


def make_server(port: int = 0, *, root: Path = SITE, host: str = "127.0.0.1",
                verbose: bool = False, live_every: float | None = None) -> ThreadingHTTPServer:
    """A server for ``root`` on ``host:port`` (0 picks a free port); call ``serve_forever()``.

    ``live_every``: publish a live bulletin under /tin-moi/ that often (demo/live.py)."""
    attrs = {"verbose": verbose, "live_every": live_every, "live_start": time.time()}
    handler = partial(type("Handler", (DemoHandler,), attrs), directory=str(root))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the demo newspaper on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (0.0.0.0 in a container; default: 127.0.0.1)")
    parser.add_argument("--root", type=Path, default=SITE, help="folder to serve (demo/site)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    parser.add_argument("--live-every", type=float, metavar="SECONDS",
                        help="a new bulletin under /tin-moi/ this often (default: none)")
    args = parser.parse_args(argv)
    server = make_server(args.port, root=args.root, host=args.host, verbose=args.verbose,
                         live_every=args.live_every)
    print(f"demo site: http://{args.host}:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

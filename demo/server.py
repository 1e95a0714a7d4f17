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
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

from feeder.serve import not_modified

SITE = Path(__file__).resolve().parent / "site"
DEMO_ORIGIN = "127.0.0.1:8081"  # the host:port demo/site's sitemap.xml and rss.xml are written for


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

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
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
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        mtime = int(os.stat(path).st_mtime)
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
                verbose: bool = False) -> ThreadingHTTPServer:
    """A server for ``root`` on ``host:port`` (0 picks a free port); call ``serve_forever()``."""
    handler = partial(type("Handler", (DemoHandler,), {"verbose": verbose}), directory=str(root))
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
    args = parser.parse_args(argv)
    server = make_server(args.port, root=args.root, host=args.host, verbose=args.verbose)
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

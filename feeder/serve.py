"""A preview server for the output folder, answering like deploy/'s nginx configuration does.

Not for production (use nginx, see ``deploy/``), but faithful where feed readers care:

* the same Content-Types, with ``charset=utf-8`` (``application/rss+xml``, ...);
* ``ETag`` (nginx's form: ``"<mtime hex>-<size hex>"``) and ``Last-Modified`` from the file;
* ``304 Not Modified`` for a matching ``If-None-Match``, or, when that header is absent, for an
  ``If-Modified-Since`` not older than the file (RFC 9110 13.2.2: If-None-Match wins);
* the ``.gz`` sibling sent as ``Content-Encoding: gzip`` when the client accepts gzip (nginx
  ``gzip_static``), with ``Vary: Accept-Encoding``;
* ``Cache-Control`` per kind of file.

Only GET and HEAD; paths are confined to the served folder, and a redirect never leaves it.
A fixed pool of threads answers (more connections wait their turn, they never add threads), and
a connection idle or half-sent for ``idle_timeout`` seconds is closed, so a slow or malicious
client cannot hold the server.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import os
import posixpath
import re
import socket
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

#: Content-Type by file name first (a feed's format is in its name, not its extension), then by
#: extension. The same table as deploy/nginx/feeder.conf.
CONTENT_TYPES_BY_NAME: Mapping[str, str] = {
    "rss.xml": "application/rss+xml; charset=utf-8",
    "atom.xml": "application/atom+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
}
CONTENT_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
DEFAULT_TYPE = "application/octet-stream"

#: Requests answered at once; more connections queue (in the pool, not in new threads).
DEFAULT_THREADS = 16
#: Seconds a connection may stay idle or half-sent before it is closed.
DEFAULT_IDLE_TIMEOUT = 15

#: Feeds change at most once per poll; 5 minutes is below any sensible poll interval, so a
#: reader never waits long for an item, and a 304 is cheap after that. Same as nginx's config.
FEED_MAX_AGE = 300
PAGE_MAX_AGE = 60
#: The stylesheet changes only with feeder itself.
STATIC_MAX_AGE = 3600


def _archived_feed(path: Path) -> str | None:
    """The feed file whose RFC 5005 archive ``path`` is (feeder.publish.items.ARCHIVE_FILES)."""
    if path.parent.name != "archive":
        return None
    return {".xml": "atom.xml", ".rss": "rss.xml"}.get(path.suffix)


def content_type(path: Path) -> str:
    """The Content-Type header for a served file."""
    archive_of = _archived_feed(path)
    if archive_of:
        return CONTENT_TYPES_BY_NAME[archive_of]
    return CONTENT_TYPES_BY_NAME.get(path.name) or CONTENT_TYPES.get(path.suffix, DEFAULT_TYPE)


_MAP_LINE = re.compile(r'^"([^"]+)"\s+"([^"]+)";\s*$')


def read_cache_map(root: Path) -> dict[str, str]:
    """The per-file Cache-Control values feeder wrote (request path -> header): every
    ``.feeder/*.map``, as nginx includes them (publish_site's feeds, each source's archives)."""
    # Imported here: `feeder serve --help` should not load the publishing code.
    from feeder.publish.site import CACHE_MAP

    found: dict[str, str] = {}
    for path in sorted((root / CACHE_MAP).parent.glob("*.map")):
        try:
            text = path.read_text("utf-8")
        except OSError:
            continue
        found.update((m.group(1), m.group(2)) for line in text.splitlines()
                     if (m := _MAP_LINE.match(line)))
    return found


_LINK_LINE = re.compile(r"""^"([^"]+)"\s+'([^']*)';\s*$""")


def read_links_map(root: Path) -> dict[str, str]:
    """The WebSub Link header of each feed path (feeder.publish.websub.LINKS_FILE)."""
    from feeder.publish.websub import LINKS_FILE

    try:
        text = (root / LINKS_FILE).read_text("utf-8")
    except OSError:
        return {}
    return {m.group(1): m.group(2) for line in text.splitlines() if (m := _LINK_LINE.match(line))}


def cache_control(path: Path, per_feed: Mapping[str, str] | None = None,
                  request_path: str | None = None) -> str:
    """The Cache-Control header for a served file.

    status.json is live; a feed is cached for its poll interval (``per_feed``, from the map
    publish_site writes), else briefly; pages a minute, the stylesheet an hour.
    """
    if path.name == "status.json":
        return "no-cache"
    if per_feed and request_path and request_path in per_feed:
        return per_feed[request_path]
    if path.name in CONTENT_TYPES_BY_NAME or path.suffix == ".opml" or _archived_feed(path):
        return f"public, max-age={FEED_MAX_AGE}"
    if path.suffix == ".xsl":
        return f"public, max-age={STATIC_MAX_AGE}"
    return f"public, max-age={PAGE_MAX_AGE}"


def etag(stat: os.stat_result) -> str:
    """nginx's strong ETag: hex mtime seconds and hex size."""
    return f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip;q=0`` forbids it)."""
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().lower()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def not_modified(headers: Mapping[str, str] | Message, tag: str, mtime: int) -> bool:
    """Whether a conditional GET with ``headers`` gets 304 for a file with ``tag`` and ``mtime``.

    RFC 9110 13.2.2: If-None-Match wins; If-Modified-Since only counts without it.
    """
    inm = headers.get("If-None-Match")
    if inm is not None:
        # Weak comparison (RFC 9110 8.8.3.2): a proxy may have weakened our tag.
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or tag in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return since.timestamp() >= mtime
    return False


class PreviewHandler(BaseHTTPRequestHandler):
    """Serves ``self.server.directory``; see the module docstring for the rules."""

    protocol_version = "HTTP/1.1"
    server_version = "feeder-preview"
    server: PreviewServer

    def setup(self) -> None:
        super().setup()
        # Every read and write on this connection; a read that times out ends the connection.
        self.connection.settimeout(self.server.idle_timeout)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("serve.request client=%s " + format, self.client_address[0], *args)

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _resolve(self) -> Path | str | None:
        """The file to serve, ``None`` for 404, or a location string for a redirect."""
        raw = urlsplit(self.path).path
        clean = posixpath.normpath(unquote(raw))
        parts = [p for p in clean.split("/") if p and p not in (".", "..")]
        root = self.server.directory
        target = root.joinpath(*parts)
        try:
            target = target.resolve()
            target.relative_to(root)
        except (ValueError, OSError):
            return None
        if target.is_dir():
            if not raw.endswith("/"):
                # Built from the cleaned parts, never from the raw path: "/\\evil.example/../x"
                # would otherwise become a Location that browsers read as //evil.example/.
                return "/" + "".join(f"{p}/" for p in parts)
            target = target / "index.html"
        if any(p.startswith(".") for p in parts) or not target.is_file():
            return None  # hidden files include the writer's temporary files
        return target

    def _serve(self, *, body: bool) -> None:
        target = self._resolve()
        if target is None:
            self._plain(HTTPStatus.NOT_FOUND, b"not found\n", body)
            return
        if isinstance(target, str):
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        send = target
        gz = target.with_name(target.name + ".gz")
        has_gz = gz.is_file()
        encoded = has_gz and accepts_gzip(self.headers.get("Accept-Encoding"))
        if encoded:
            send = gz
        try:
            stat = send.stat()
            data = send.read_bytes() if body else b""
        except OSError:
            self._plain(HTTPStatus.NOT_FOUND, b"not found\n", body)
            return
        tag = etag(stat)
        mtime = int(stat.st_mtime)
        if not_modified(self.headers, tag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._validators(tag, mtime, target, has_gz)
            self.end_headers()
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type(target))
        if encoded:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(stat.st_size))
        self._validators(tag, mtime, target, has_gz)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _validators(self, tag: str, mtime: int, target: Path, has_gz: bool) -> None:
        self.send_header("ETag", tag)
        self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
        per_feed = read_cache_map(self.server.directory)
        request_path = "/" + target.relative_to(self.server.directory).as_posix()
        self.send_header("Cache-Control", cache_control(target, per_feed, request_path))
        link = read_links_map(self.server.directory).get(request_path)
        if link:  # WebSub discovery (section 4): the hubs and the feed's own URL
            self.send_header("Link", link)
        if has_gz:
            self.send_header("Vary", "Accept-Encoding")

    def _plain(self, status: HTTPStatus, text: bytes, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if body:
            self.wfile.write(text)


class PreviewServer(HTTPServer):
    """An HTTP server bound to one output folder, answering from a fixed pool of threads."""

    #: The listen backlog: socketserver's 5 makes a burst of clients wait for SYN retries.
    request_queue_size = 256

    def __init__(self, directory: Path, address: tuple[str, int], *,
                 threads: int = DEFAULT_THREADS,
                 idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> None:
        self.directory = Path(directory).resolve()
        self.idle_timeout = idle_timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="feeder-serve")
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, PreviewHandler)  # binds: OSError when the port is taken

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        self._pool.submit(self._answer, request, client_address)

    def _answer(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)
            self.shutdown_request(request)

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # A client that vanished or timed out is routine; log it instead of printing a trace.
        log.debug("serve.client_error client=%s", client_address[0], exc_info=True)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        # Wake the threads still reading from a client, so that stopping is not held up by an
        # idle connection, and close the connections still queued.
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8080, *,
                threads: int = DEFAULT_THREADS,
                idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> PreviewServer:
    """A bound but not yet running preview server (``port=0`` picks a free port; see ``.url``).

    Run it with ``serve_forever()`` (in a thread for tests), stop it with ``shutdown()`` and
    ``server_close()``. Raises OSError when the address cannot be bound (port in use).
    """
    return PreviewServer(directory, (host, port), threads=threads, idle_timeout=idle_timeout)


def serve_until_interrupted(server: PreviewServer) -> None:
    """Serve until Ctrl-C / SIGINT; for ``feeder serve``."""
    log.info("serve.start url=%s directory=%s", server.url, server.directory)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        log.info("serve.stop")


def serve_in_thread(directory: Path, host: str = "127.0.0.1",
                    port: int = 0) -> tuple[PreviewServer, threading.Thread]:
    """Start a preview server in a daemon thread (tests; ``make demo`` runs ``feeder serve``)."""
    server = make_server(directory, host, port)
    thread = threading.Thread(target=server.serve_forever, name="feeder-serve", daemon=True)
    thread.start()
    return server, thread

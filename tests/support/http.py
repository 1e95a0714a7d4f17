"""A real HTTP server on 127.0.0.1 for tests: routes with bodies and headers, requests recorded.

Usage::

    with LoopbackServer() as srv:
        srv.route("/list", "<html>...</html>", headers={"ETag": '"v1"'})
        url = srv.url("/list")
        ...
        assert srv.requests[-1].headers["If-None-Match"] == '"v1"'

A route answers 304 by itself when the request's If-None-Match matches its ETag or its
If-Modified-Since equals its Last-Modified, like a static file server does.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import urllib3.util.connection

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse, before any DNS lookup, every connection ``requests`` opens to a host other than
    127.0.0.1: a test about refusing an outside address then fails instead of reaching it."""
    real = urllib3.util.connection.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        if address[0].strip("[]") not in LOOPBACK_HOSTS:
            raise AssertionError(f"a test tried to connect to {address[0]}:{address[1]}")
        return real(address, *args, **kwargs)

    urllib3.util.connection.create_connection = guarded
    try:
        yield
    finally:
        urllib3.util.connection.create_connection = real


def loopback_counts_as_public(monkeypatch: Any) -> None:
    """Make feeder's private-address check take 127.0.0.1 for a public address, so that the
    path a public site takes (resolve once, check, connect to that address) runs on loopback.
    Other private addresses (::1, 10/8, 169.254/16, ...) stay private, and a name no resolver
    given knows counts as public without asking DNS."""
    import feeder.fetch
    import feeder.pipeline

    real = feeder.fetch.is_public_host

    def is_public_host(host: str, resolve: Callable[[str], list[str]] = lambda h: []) -> bool:
        if host.strip("[]") == "127.0.0.1":
            return True
        names = resolve(host) or []
        if names and all(a == "127.0.0.1" for a in names):
            return True
        return real(host, resolve)

    monkeypatch.setattr(feeder.fetch, "is_public_host", is_public_host)
    monkeypatch.setattr(feeder.pipeline, "is_public_host", is_public_host)


def not_modified(status: int, headers: Mapping[str, str],
                 request: Message) -> dict[str, str] | None:
    """The headers of a 304 for a ``status``/``headers`` answer to ``request`` (its headers),
    or ``None`` when the full answer is due: like a static file server, a 200 is not modified
    when If-None-Match equals its ETag, or (without If-None-Match) If-Modified-Since equals its
    Last-Modified."""
    etag = headers.get("ETag")
    lm = headers.get("Last-Modified")
    inm = request.get("If-None-Match")
    ims = request.get("If-Modified-Since")
    if status == 200 and ((etag and inm == etag) or (lm and not inm and ims == lm)):
        return {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}
    return None


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[[BaseHTTPRequestHandler], None]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up early (size caps, deadlines) are what the tests provoke on purpose.
        pass


class LoopbackServer:
    """``host`` is 127.0.0.1 or ::1; ``port`` 0 picks a free one; ``tls`` (cert file, key file)
    serves HTTPS."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0,
                 tls: tuple[str, str] | None = None) -> None:
        self.host = host
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Route | Handler] = {}
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(
                        RecordedRequest("GET", self.path, {k: v for k, v in self.headers.items()}))
                route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                elif callable(route):
                    route(self)
                else:
                    if route.delay:
                        time.sleep(route.delay)
                    validators = not_modified(route.status, route.headers, self.headers)
                    if validators is not None:
                        self._send(304, b"", validators)
                    else:
                        self._send(route.status, route.body, route.headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                hdrs = {"Content-Type": "text/html; charset=utf-8", **headers}
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

        server_class: type[_QuietServer] = _QuietServer
        if ":" in host:
            class _Server6(_QuietServer):
                address_family = socket.AF_INET6
            server_class = _Server6
        self._server = server_class((host, port), _Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, body: str | bytes | Handler, *, status: int = 200,
              headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        if callable(body):
            self.routes[path] = body
            return
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(data, status, dict(headers or {}), delay)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

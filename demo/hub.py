"""A small WebSub hub on 127.0.0.1 that records what it is told, for ``make demo`` and the tests.

    python demo/hub.py --port 8082

It does what a hub does, plainly (https://www.w3.org/TR/websub/):

* ``POST hub.mode=publish&hub.url=TOPIC``: recorded, answered 204; then the hub fetches TOPIC and
  delivers the bytes to every verified subscriber of it (sections 7 and 8), with
  ``Link: <hub>; rel="hub"`` and ``<topic>; rel="self"`` headers and, when the subscriber gave a
  secret, an ``X-Hub-Signature: sha256=...`` HMAC of the body.
* ``POST hub.mode=subscribe|unsubscribe&hub.callback=...&hub.topic=...``: answered 202, then the
  intent is verified with a GET to the callback that must echo ``hub.challenge`` (section 5.3).
* ``GET /``: what it recorded, as plain text (the demo prints its address).

Not a production hub: subscriptions live in memory, delivery is tried once. Importable for tests:
:func:`make_server` returns a ready, unstarted server; its ``hub`` attribute holds the records.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Ping:
    topic: str
    at: float  # time.time() when received
    content_type: str


@dataclass(frozen=True)
class Delivery:
    callback: str
    topic: str
    status: int | str  # the subscriber's HTTP status, or what went wrong


@dataclass
class Hub:
    """The hub's memory. ``fail_next`` answers that many publish requests with 503 (tests)."""

    url: str = ""
    pings: list[Ping] = field(default_factory=list)
    subscribers: dict[str, dict[str, str]] = field(default_factory=dict)  # topic -> cb -> secret
    deliveries: list[Delivery] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Block until ``predicate(hub)`` holds (tests), at most ``timeout`` seconds."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)

    def deliver(self, topic: str) -> None:
        try:
            with urllib.request.urlopen(topic, timeout=10) as response:
                body = response.read()
                kind = response.headers.get("Content-Type", "application/octet-stream")
        except (OSError, urllib.error.URLError) as exc:
            self._delivered(Delivery("", topic, f"fetch failed: {exc}"))
            return
        with self.lock:
            targets = dict(self.subscribers.get(topic, {}))
        for callback, secret in targets.items():
            headers = {"Content-Type": kind,
                       "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"'}
            if secret:
                digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature"] = f"sha256={digest}"
            request = urllib.request.Request(callback, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status: int | str = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                status = f"{exc}"
            self._delivered(Delivery(callback, topic, status))

    def verify(self, mode: str, callback: str, topic: str, secret: str, lease: str) -> None:
        challenge = secrets.token_hex(16)
        query = urllib.parse.urlencode({"hub.mode": mode, "hub.topic": topic,
                                        "hub.challenge": challenge, "hub.lease_seconds": lease})
        sep = "&" if "?" in callback else "?"
        try:
            with urllib.request.urlopen(f"{callback}{sep}{query}", timeout=10) as response:
                confirmed = response.read().decode("utf-8", "replace").strip() == challenge
        except OSError:
            confirmed = False
        with self.changed:
            if confirmed and mode == "subscribe":
                self.subscribers.setdefault(topic, {})[callback] = secret
            elif confirmed:
                self.subscribers.get(topic, {}).pop(callback, None)
            self.changed.notify_all()

    def _delivered(self, delivery: Delivery) -> None:
        with self.changed:
            self.deliveries.append(delivery)
            self.changed.notify_all()

    def report(self) -> str:
        with self.lock:
            lines = [f"WebSub hub {self.url}", f"{len(self.pings)} publish notification(s):"]
            lines += [f"  {time.strftime('%H:%M:%S', time.localtime(p.at))} {p.topic}"
                      for p in self.pings]
            lines.append("subscriptions:")
            lines += [f"  {topic} -> {cb}" for topic, cbs in self.subscribers.items()
                      for cb in cbs]
            lines.append(f"{len(self.deliveries)} deliveries:")
            lines += [f"  {d.topic} -> {d.callback}: {d.status}" for d in self.deliveries]
        return "\n".join(lines) + "\n"


class HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    verbose = False

    @property
    def hub(self) -> Hub:
        return self.server.hub  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        if self.verbose:
            super().log_message(format, *args)

    def _answer(self, status: int, text: str = "") -> None:
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(200, self.hub.report())

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"))

        def one(key: str) -> str:
            return (form.get(key) or [""])[0]

        mode = one("hub.mode")
        if mode == "publish":
            topic = one("hub.url") or one("hub.topic")
            if not topic.startswith(("http://", "https://")):
                self._answer(400, "hub.url must be an http(s) URL\n")
                return
            with self.hub.changed:
                if self.hub.fail_next > 0:
                    self.hub.fail_next -= 1
                    self._answer(503, "try again later\n")
                    return
                self.hub.pings.append(Ping(topic, time.time(),
                                           self.headers.get("Content-Type", "")))
                self.hub.changed.notify_all()
            self._answer(204)
            threading.Thread(target=self.hub.deliver, args=(topic,), daemon=True).start()
        elif mode in ("subscribe", "unsubscribe"):
            callback, topic = one("hub.callback"), one("hub.topic")
            if not callback or not topic:
                self._answer(400, "hub.callback and hub.topic are required\n")
                return
            self._answer(202)
            threading.Thread(target=self.hub.verify, daemon=True, args=(
                mode, callback, topic, one("hub.secret"), one("hub.lease_seconds") or "86400",
            )).start()
        else:
            self._answer(400, f"unknown hub.mode {mode!r}\n")


def make_server(port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), HubHandler)
    server.daemon_threads = True
    server.hub = Hub(url=f"http://{host}:{server.server_address[1]}/")  # type: ignore[attr-defined]
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    HubHandler.verbose = args.verbose
    with make_server(args.port) as server, contextlib.suppress(KeyboardInterrupt):
        print(f"hub: WebSub hub at {server.hub.url}", file=sys.stderr)  # type: ignore[attr-defined]
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

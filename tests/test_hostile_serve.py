"""``feeder serve`` against hostile clients, as a real subprocess on a real socket: no open
redirect, idle and half-sent connections time out, and a flood of them does not add threads."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.support.cli import ROOT, run_feeder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def feeder_serve(folder: Path, *options: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """``feeder serve`` on a free loopback port, until the block ends."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "feeder", "serve", "--directory", str(folder), "--port", str(port),
         *options], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.05)
        yield proc, port
    finally:
        proc.terminate()
        proc.wait(10)
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()


def _raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
        return answer


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.html").write_text("<p>feeds</p>", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("path", [
    "/\\evil.example/../src",  # browsers read "\" as "/": Location /\evil.example/.. leaves
    "//evil.example/../src",
    "/%5Cevil.example/%2E%2E/src",
    "/./src",
])
def test_no_open_redirect(site: Path, path: str) -> None:
    with feeder_serve(site) as (_proc, port):
        head = _raw_request(port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, *headers = head.decode("latin-1").split("\r\n")
    assert status.split()[1] == "301", head
    [location] = [h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("location:")]
    assert location == "/src/"


def test_half_sent_request_times_out(site: Path) -> None:
    with feeder_serve(site, "--timeout", "1") as (_proc, port), \
            socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /src/ HTTP/1.1\r\nHost: x\r\n")  # the blank line never comes
        started = time.monotonic()
        assert sock.recv(4096) == b""  # closed by the server
        assert time.monotonic() - started < 5


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_a_thousand_half_sent_requests_hold_a_bounded_number_of_threads(site: Path) -> None:
    with feeder_serve(site) as (proc, port), ExitStack() as stack:
        idle = _threads(proc.pid)
        for _ in range(1000):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            sock.sendall(b"GET /src/ HTTP/1.1\r\nHost: x\r\n")
        time.sleep(1.0)  # let the server accept them all
        # The default pool (16) plus the main thread, whatever the number of clients.
        assert _threads(proc.pid) <= idle + 16, _threads(proc.pid)
        stack.close()  # the clients give up; their slots free at once
        head = _raw_request(port, b"GET /src/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head


def test_serve_help_shows_the_defaults(tmp_path: Path) -> None:
    proc = run_feeder(["serve", "--help"], cwd=tmp_path)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for default in ("(default: 127.0.0.1)", "(default: 8080)", "(default: 16)",
                    "(default: 15)"):
        assert default in text, proc.stdout

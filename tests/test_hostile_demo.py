"""`make demo` (demo/run.py) as a newcomer stops it: SIGTERM leaves no process holding its ports,
and a second demo while the ports are taken says so and starts nothing.

Runs demo/run.py for real, on free ports and a configuration in a temporary folder (the bundled
feeder.toml uses the fixed ports 8080-8082, which another demo on this machine may hold).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                                reason="finds the demo's processes in /proc")


def _free_ports(count: int) -> list[int]:
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _session_members(sid: int) -> list[int]:
    """Live processes in session ``sid`` (zombies waiting to be reaped do not count)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            members.append(int(entry.name))
    return members


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the demo's servers do
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def demo_args(tmp_path: Path) -> Iterator[tuple[list[str], list[int]]]:
    site, hub, feeds = ports = _free_ports(3)
    cfg = tmp_path / "feeder.toml"
    cfg.write_text(f'[feeder]\nout = "public"\ndatabase = "var/feeder.db"\n'
                   f'base_url = "http://127.0.0.1:{feeds}/"\nhub = "http://127.0.0.1:{hub}/"\n'
                   f'host_delay = 0.0\n\n[[sources]]\nid = "tanphuoc"\n'
                   f'url = "http://127.0.0.1:{site}/"\ninterval = "2m"\n', encoding="utf-8")
    yield ([sys.executable, str(ROOT / "demo" / "run.py"), "--config", str(cfg),
            "--site-port", str(site), "--hub-port", str(hub), "--feeds-port", str(feeds)], ports)


def _wait_until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_sigterm_stops_every_demo_process(demo_args: tuple[list[str], list[int]]) -> None:
    command, ports = demo_args
    # A session of its own, so the test can find (and at the end always kill) the whole demo.
    demo = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait_until(lambda: not _bindable(ports[2]), 60), "the demo did not start"
        children = [pid for pid in _session_members(demo.pid) if pid != demo.pid]
        assert len(children) == 4, children
        demo.send_signal(signal.SIGTERM)  # as `kill PID` or a service manager does
        assert demo.wait(60) == 0
        assert _wait_until(lambda: not set(children) & set(_session_members(demo.pid)), 10), \
            f"left behind: {set(children) & set(_session_members(demo.pid))}"
        assert all(_bindable(port) for port in ports)
        assert demo.stderr is not None
        assert b"Traceback" not in demo.stderr.read()
    finally:
        for pid in _session_members(demo.pid):
            os.kill(pid, signal.SIGKILL)
        demo.wait(10)


def test_second_demo_with_ports_taken_says_so(demo_args: tuple[list[str], list[int]]) -> None:
    command, ports = demo_args
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[2]))
        taken.listen()
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60,
                              start_new_session=True)
    assert proc.returncode == 1
    assert f"port {ports[2]} (feeds) already in use" in proc.stderr, proc.stderr
    assert "another `make demo` still running" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert all(_bindable(port) for port in ports)  # nothing was started

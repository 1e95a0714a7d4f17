"""`make demo`: the demo site, the real scheduler and the feed server, until Ctrl-C or SIGTERM.

Starts four processes from the project's own venv:
  1. demo/server.py serving demo/site on 127.0.0.1:8081 (a Vietnamese provincial paper), with
     a new bulletin under /tin-moi/ every 2 minutes,
  2. demo/hub.py, a small WebSub hub on 127.0.0.1:8082 that records feeder's publish
     notifications (open it in a browser to see them) and pushes new content to subscribers,
  3. `feeder run` (APScheduler, every source on its interval) with ./feeder.toml,
  4. `feeder serve` serving the output folder at http://127.0.0.1:8080/.

Stopped by Ctrl-C, SIGTERM or SIGHUP, it stops all four before it exits, so no process is left
holding the ports. The ports are checked first: when one is taken (a demo still running), it
says which and starts nothing. The options exist for tests, which must not use the fixed ports.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
SITE_PORT, FEEDS_PORT, HUB_PORT = 8081, 8080, 8082


class Stop(Exception):
    """SIGTERM or SIGHUP arrived: stop the demo as Ctrl-C does."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        # As the servers bind: connections of a demo just stopped (TIME_WAIT) do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_for(url: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run feeder's demo until Ctrl-C or SIGTERM.")
    parser.add_argument("--config", type=Path, default=ROOT / "feeder.toml",
                        help="feeder configuration (default: ./feeder.toml, whose demo source "
                             "and hub use the default ports)")
    parser.add_argument("--site-port", type=int, default=SITE_PORT)
    parser.add_argument("--hub-port", type=int, default=HUB_PORT)
    parser.add_argument("--feeds-port", type=int, default=FEEDS_PORT)
    args = parser.parse_args(argv)
    ports = {"demo site": args.site_port, "WebSub hub": args.hub_port, "feeds": args.feeds_port}
    taken = [f"{port} ({what})" for what, port in ports.items() if port_in_use(port)]
    if taken:
        print(f"demo: {'ports' if len(taken) > 1 else 'port'} {', '.join(taken)} already in "
              "use on 127.0.0.1: is another `make demo` still running? Stop it (Ctrl-C in its "
              "terminal) and try again.", file=sys.stderr)
        return 1

    py = sys.executable
    feeder = [py, "-m", "feeder", "--config", str(args.config)]
    procs: list[subprocess.Popen[bytes]] = []

    def start(*command: str) -> None:
        procs.append(subprocess.Popen(list(command), cwd=ROOT))

    # Until every child is stopped, SIGTERM and SIGHUP unwind through `finally` like Ctrl-C.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    try:
        # A live bulletin every 2 minutes (the source's interval): new articles keep arriving.
        start(py, "demo/server.py", "--port", str(args.site_port), "--live-every", "120")
        if not wait_for(f"http://127.0.0.1:{args.site_port}/"):
            print("demo: the demo site did not start on port", args.site_port, file=sys.stderr)
            return 1
        start(py, "demo/hub.py", "--port", str(args.hub_port))  # the configuration names it
        wait_for(f"http://127.0.0.1:{args.hub_port}/")
        start(*feeder, "run")
        start(*feeder, "serve", "--port", str(args.feeds_port))
        wait_for(f"http://127.0.0.1:{args.feeds_port}/")
        print(f"\ndemo: site  http://127.0.0.1:{args.site_port}/\n"
              f"demo: hub   http://127.0.0.1:{args.hub_port}/  (WebSub pings received)\n"
              f"demo: feeds http://127.0.0.1:{args.feeds_port}/  (Ctrl-C stops)\n",
              file=sys.stderr, flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return max(p.returncode or 0 for p in procs)
    except (KeyboardInterrupt, Stop):
        return 0
    finally:
        # A second signal must not cut the clean-up short and leave children behind.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=12)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


if __name__ == "__main__":
    raise SystemExit(main())

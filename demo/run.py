"""`make demo`: the demo site, the real scheduler and the feed server, until Ctrl-C.

Starts four processes from the project's own venv:
  1. demo/server.py serving demo/site on 127.0.0.1:8081 (a Vietnamese provincial paper),
  2. demo/hub.py, a small WebSub hub on 127.0.0.1:8082 that records feeder's publish
     notifications (open it in a browser to see them) and pushes new content to subscribers,
  3. `feeder run` (APScheduler, every source on its interval) with ./feeder.toml,
  4. `feeder serve` serving the output folder at http://127.0.0.1:8080/.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_PORT, FEEDS_PORT, HUB_PORT = 8081, 8080, 8082


def wait_for(url: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    py = sys.executable
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> None:
        procs.append(subprocess.Popen([py, *args], cwd=ROOT))

    try:
        start("demo/server.py", "--port", str(SITE_PORT))
        if not wait_for(f"http://127.0.0.1:{SITE_PORT}/"):
            print("demo: the demo site did not start on port", SITE_PORT, file=sys.stderr)
            return 1
        start("demo/hub.py", "--port", str(HUB_PORT))  # feeder.toml names it as the hub
        wait_for(f"http://127.0.0.1:{HUB_PORT}/")
        start("-m", "feeder", "run")
        start("-m", "feeder", "serve", "--port", str(FEEDS_PORT))
        wait_for(f"http://127.0.0.1:{FEEDS_PORT}/")
        print(f"\ndemo: site  http://127.0.0.1:{SITE_PORT}/\n"
              f"demo: hub   http://127.0.0.1:{HUB_PORT}/  (WebSub pings received)\n"
              f"demo: feeds http://127.0.0.1:{FEEDS_PORT}/  (Ctrl-C stops)\n", file=sys.stderr)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return max(p.returncode or 0 for p in procs)
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=12)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    raise SystemExit(main())

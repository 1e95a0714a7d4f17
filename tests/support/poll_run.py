"""Run ``Poller.run_once()`` in this process and print one JSON line: results and peak RSS.

Used by recovery tests and ``bench/poll.py`` as a subprocess, so that peak memory is measured per
run (``VmHWM`` of this process) and a crash cannot take the test process down::

    python -m tests.support.poll_run CONFIG [--retries N] [--backoff S] [--max-wait S]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (VmHWM; ru_maxrss as a fallback)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--retries", type=int, default=3)
    ap.add_argument("--backoff", type=float, default=1.0)
    ap.add_argument("--max-wait", type=float, default=60.0)
    ap.add_argument("--log", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log, stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")

    from feeder import config
    from feeder.fetch import Fetcher
    from feeder.pipeline import Poller
    from feeder.store import Store

    cfg = config.load(args.config)
    started = time.monotonic()
    store = Store(cfg.settings.database)
    with Fetcher(cfg.settings, retries=args.retries, backoff=args.backoff,
                 max_wait=args.max_wait) as fetcher:
        results = Poller(cfg, store, fetcher).run_once()
    store.close()
    print(json.dumps({"seconds": time.monotonic() - started, "peak_rss_mb": peak_rss_mb(),
                      "results": [asdict(r) for r in results]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Polling at scale: a first full ingest, then an idle poll where nothing changed (issue 5).

Serves a generated site (``--sources`` listings ``/s<i>/`` of ``--articles`` articles each, with
content ETags and 304s) from a separate process on 127.0.0.1, spread over ``--ports`` ports (each
port is one "host" to feeder's per-host politeness, as sources on different sites would be). Each
phase is one ``Poller.run_once()`` in its own subprocess (``tests/support/poll_run.py``), so its
peak RSS (VmHWM) is its own. For each phase it prints wall time, requests the server saw (200s,
304s), articles fetched, files written (new or with a changed mtime under ``out/``) and peak RSS.

The idle poll must make at most one request per listing page, fetch no article, write no file and
stay under 300 MB; the exit status is 1 when it does not. With ``--robots`` feeder honours
robots.txt (the site has none: 404s); those requests, one per host and process, are counted apart.

    .venv/bin/python bench/poll.py [--sources 1000] [--articles 20] [--workers 8] [--ports 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.site import write_config  # noqa: E402

MAX_RSS_MB = 300


def mtimes(out: Path) -> dict[str, int]:
    if not out.exists():
        return {}
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def server_stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats", timeout=10) as resp:
        return json.load(resp)


def phase(name: str, config: Path, out: Path, port: int) -> dict[str, float]:
    before_files = mtimes(out)
    before = server_stats(port)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "tests.support.poll_run", str(config),
                           "--retries", "1", "--backoff", "0.05", "--max-wait", "1"],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"{name}: poll run failed:\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout.splitlines()[-1])
    after = server_stats(port)
    after_files = mtimes(out)
    written = sum(1 for k, v in after_files.items() if before_files.get(k) != v)
    results = report["results"]
    row = {
        "wall_s": wall,
        "run_once_s": report["seconds"],
        "requests": after["requests"] - before["requests"],
        "robots": after["robots"] - before["robots"],
        "responses_200": after["200"] - before["200"],
        "responses_304": after["304"] - before["304"],
        "articles_fetched": sum(r["fetched"] for r in results),
        "articles_new": sum(r["new"] for r in results),
        "errors": sum(r["status"] == "error" for r in results),
        "failed_pages": sum(len(r["failed_pages"]) for r in results),
        "files_written": written,
        "peak_rss_mb": report["peak_rss_mb"],
    }
    changed = sorted(k for k, v in after_files.items() if before_files.get(k) != v)
    print(f"{name:13} wall {row['wall_s']:7.1f} s (run_once {row['run_once_s']:.1f} s)  "
          f"requests {row['requests']:6d} (200: {row['responses_200']}, "
          f"304: {row['responses_304']}, robots.txt: {row['robots']})  "
          f"articles fetched {row['articles_fetched']:6d} "
          f"(new {row['articles_new']})  files written {row['files_written']:5d}  "
          f"peak RSS {row['peak_rss_mb']:.0f} MB  errors {row['errors']}/"
          f"{row['failed_pages']}", flush=True)
    for line in proc.stderr.splitlines():
        if " ERROR " in f" {line} " or line.startswith(("ERROR", "CRITICAL")):
            print(f"  {line[:300]}", flush=True)
    if name == "idle poll" and changed:
        print(f"  idle poll wrote: {', '.join(changed[:10])}", flush=True)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--articles", type=int, default=20)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--ports", type=int, default=8)
    ap.add_argument("--robots", action="store_true",
                    help="honour robots.txt (the site has none: each is a 404)")
    ap.add_argument("--keep", metavar="DIR", help="work in DIR (kept) instead of a temp dir")
    args = ap.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="feeder-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.site", "--sources", str(args.sources),
         "--articles", str(args.articles), "--ports", str(args.ports)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        ports = json.loads(server.stdout.readline())["ports"]
        out = work / "out"
        config = write_config(
            work / "feeder.toml",
            {"out": str(out), "database": str(work / "feeder.db"), "host_delay": 0.0,
             "respect_robots": args.robots, "workers": args.workers,
             "max_articles_per_poll": max(30, args.articles)},
            [{"id": f"s{i}", "name": f"Nguồn {i}",
              "url": f"http://127.0.0.1:{ports[i % len(ports)]}/s{i}/"}
             for i in range(args.sources)])
        print(f"feeder poll bench: {args.sources} sources x {args.articles} articles, "
              f"{args.workers} workers, {len(ports)} server ports, work dir {work}", flush=True)
        first = phase("first ingest", config, out, ports[0])
        idle = phase("idle poll", config, out, ports[0])
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(30)

    problems = []
    # robots.txt is counted apart: once per host and process (the daemon keeps it for a day).
    if idle["requests"] - idle["robots"] > args.sources:
        problems.append(f"{idle['requests'] - idle['robots']} requests for {args.sources} "
                        "listing pages")
    if idle["articles_fetched"]:
        problems.append(f"{idle['articles_fetched']} articles fetched")
    if idle["files_written"]:
        problems.append(f"{idle['files_written']} files written")
    if max(first["peak_rss_mb"], idle["peak_rss_mb"]) >= MAX_RSS_MB:
        problems.append(f"peak RSS {max(first['peak_rss_mb'], idle['peak_rss_mb']):.0f} MB")
    expected = args.sources * args.articles
    if first["articles_new"] != expected:
        problems.append(f"first ingest stored {first['articles_new']} of {expected} articles")
    print("idle poll: " + ("OK" if not problems else "FAIL: " + "; ".join(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Extraction speed: feeder's whole extraction vs trafilatura, same pages, one process, one run.

Usage: .venv/bin/python bench/speed.py [--sets fundus,wcxb-dev,htmldate-vn] [--limit N]

Each page is decoded once up front (both extractors get the same text); then, page by page,
feeder's ``extract`` (parse + metadata + content + record) and trafilatura 2.3.1
``bare_extraction(with_metadata=True)`` are timed alternately so that both see the same machine
state. Prints the median milliseconds per page of each and the ratio feeder / trafilatura.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/corpus from /work/main or from a worktree; FEEDER_SHARED names ../shared elsewhere.
CORPUS = Path(os.environ["FEEDER_SHARED"]) / "corpus" if os.environ.get("FEEDER_SHARED") else next(
    (p / "shared" / "corpus" for p in ROOT.parents if (p / "shared" / "corpus").is_dir()),
    ROOT.parent / "shared" / "corpus")
sys.path.insert(0, str(ROOT))

from feeder.charset import decode_html  # noqa: E402
from feeder.errors import ExtractError  # noqa: E402
from feeder.extract import extract, rules  # noqa: E402
from feeder.pagefile import read_page  # noqa: E402


def pages(sets: list[str], limit: int | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in sets:
        manifest = CORPUS / name / "manifest.jsonl"
        for line in manifest.open(encoding="utf-8"):
            entry = json.loads(line)
            text = decode_html(read_page(manifest.parent / entry["path"]))[0]
            out.append((text, entry.get("url") or ""))
    return out[:limit] if limit else out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="fundus,wcxb-dev,htmldate-vn")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from trafilatura import bare_extraction

    work = pages([s for s in args.sets.split(",") if s], args.limit)
    ours: list[float] = []
    theirs: list[float] = []
    # Warm both up (imports, regex compilation, lazy tables) outside the measurement.
    for text, url in work[:3]:
        with contextlib.suppress(ExtractError):
            extract(text, url, timezone=None)
        bare_extraction(text, url=url, with_metadata=True)
    # Pages whose body asked trafilatura for a second opinion, and those that took it
    # (feeder/extract/body.py).
    asked = taken = 0
    for text, url in work:
        rules.fired.clear()
        t0 = time.perf_counter()
        with contextlib.suppress(ExtractError):
            record = extract(text, url, timezone=None)
            taken += record.provenance.get("content") == "trafilatura"
        t1 = time.perf_counter()
        asked += "second-opinion" in rules.fired
        bare_extraction(text, url=url, with_metadata=True)
        t2 = time.perf_counter()
        ours.append((t1 - t0) * 1000)
        theirs.append((t2 - t1) * 1000)
    mine, other = statistics.median(ours), statistics.median(theirs)
    print(f"pages: {len(work)}")
    print(f"feeder       median {mine:7.2f} ms/page   (mean {statistics.fmean(ours):.2f})")
    print(f"trafilatura  median {other:7.2f} ms/page   (mean {statistics.fmean(theirs):.2f})")
    print(f"ratio feeder/trafilatura: {mine / other:.2f}   "
          f"(means: {statistics.fmean(ours) / statistics.fmean(theirs):.2f})")
    print(f"second opinion asked on {asked} pages ({asked / len(work):.0%}), taken on {taken}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Listing discovery: ``feeder links`` on every page of ../shared/corpus/listings, scored.

Usage: .venv/bin/python bench/discovery.py [--per-page] [--fold A|B] [--keep FILE]
                                           [--listings DIR]

Each page goes through ``feeder links FILE --url URL`` (the CLI in-process: the code path a poll
uses), its links are written as predictions and scored by ../shared/tools/score_listings.py:
recall of the main listing's articles, share of excluded links taken (most read, sidebars, menus),
precision on labelled links; macro averages over pages.

Held-out figures: the pages are split by site into two halves (a stable hash of the host, so the
split does not depend on results); a rule is only worth keeping when it pays on the half it was
not developed on. ``--fold A`` limits the per-page rows to one half, so that rules can be
developed while the other half's pages stay unseen.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared next to the checkout (a worktree sits one level deeper: the nearest ancestor wins).
SHARED = next((p / "shared" for p in ROOT.parents if (p / "shared" / "corpus").is_dir()),
              ROOT.parent / "shared")
LISTINGS = SHARED / "corpus" / "listings"
SCORER = SHARED / "tools" / "score_listings.py"
sys.path.insert(0, str(ROOT))

from feeder.cli import main as feeder_main  # noqa: E402

METRICS = ("recall", "excluded_taken", "precision")


def site_fold(site: str) -> str:
    """"A" or "B": a stable half of the sites, by hash of the host without ``www.``."""
    host = site.split("/")[0].lower().removeprefix("www.")
    return "AB"[hashlib.sha256(host.encode()).digest()[0] % 2]


def discover(path: Path, url: str) -> dict[str, object]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = feeder_main(["-q", "links", str(path), "--url", url])
    if status != 0:
        return {"error": err.getvalue().strip() or f"exit {status}"}
    return {"links": [json.loads(line)["url"] for line in out.getvalue().splitlines()]}


def score(listings: Path, predictions: Path) -> list[dict[str, object]]:
    run = subprocess.run([sys.executable, str(SCORER), str(listings), str(predictions),
                          "--per-page", "--json"], capture_output=True, text=True, check=True)
    lines = run.stdout.splitlines()
    return [json.loads(line) for line in lines[:-1]]  # the last line is the scorer's summary


def mean(rows: list[dict[str, object]], key: str) -> float | None:
    values = [float(v) for r in rows if isinstance(v := r.get(key), (int, float))]
    return round(sum(values) / len(values), 4) if values else None


def figures(rows: list[dict[str, object]]) -> str:
    return "  ".join(f"{k} {mean(rows, k)}" for k in METRICS) + f"  ({len(rows)} pages)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=Path, default=LISTINGS)
    parser.add_argument("--per-page", action="store_true", help="one row per page")
    parser.add_argument("--fold", choices=("A", "B"), help="per-page rows of this half only")
    parser.add_argument("--keep", type=Path, help="also write the predictions here")
    args = parser.parse_args(argv)

    manifest = [json.loads(line) for line in
                (args.listings / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()]
    fold = {m["id"]: site_fold(m["site"]) for m in manifest}
    with tempfile.TemporaryDirectory() as tmp:
        predictions = args.keep or Path(tmp) / "predictions.jsonl"
        with predictions.open("w", encoding="utf-8") as out:
            for m in manifest:
                row = {"id": m["id"], **discover(args.listings / m["path"], m["url"])}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        rows = score(args.listings, predictions)

    if args.per_page:
        for r in rows:
            if args.fold in (None, fold[str(r["id"])]):
                print(f"{fold[str(r['id'])]} {r['id']:36} "
                      + "  ".join(f"{k[:4]} {r[k] if r[k] is None else round(float(r[k]), 3)}"
                                  for k in METRICS)  # type: ignore[arg-type]
                      + f"  returned {r['returned']}" + (f"  ERROR {r['error']}" if r["error"]
                                                         else ""))
    print(f"all          {figures(rows)}")
    for kind in ("home", "section"):
        print(f"  {kind:10} {figures([r for r in rows if r['kind'] == kind])}")
    for half in ("A", "B"):
        print(f"sites {half}      {figures([r for r in rows if fold[str(r['id'])] == half])}")
    errors = [r for r in rows if r["error"]]
    if errors:
        print(f"errors: {len(errors)} ({', '.join(str(r['id']) for r in errors)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Listing discovery: ``feeder links`` on every page of ../shared/corpus/listings, scored.

Usage: .venv/bin/python bench/discovery.py [--per-page] [--fold A|B] [--keep FILE]
                                           [--listings DIR] [--ablate] [--explain ID[,ID...]]

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
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

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


def _rounded(value: object) -> object:
    return round(value, 3) if isinstance(value, float) else value


def figures(rows: list[dict[str, object]]) -> str:
    return "  ".join(f"{k} {mean(rows, k)}" for k in METRICS) + f"  ({len(rows)} pages)"


# Each rule switched off in turn (--ablate): its gain is the difference it makes, per half of the
# sites. A rule is judged on the half it was not developed on.
def _ablations() -> dict[str, Callable[[], contextlib.AbstractContextManager[object]]]:
    import re

    import feeder.discover as discover
    from feeder.discover import furniture
    from feeder.urls import same_site

    never = re.compile(r"(?!)")
    return {
        "box headings": lambda: mock.patch.object(furniture, "_BOX_HEADING_RE", never),
        "furniture names": lambda: mock.patch.object(furniture, "_named_furniture",
                                                     lambda el: False),
        "secondary columns": lambda: mock.patch.object(furniture.Furniture, "_side_column",
                                                       lambda self, el: False),
        "centre column names": lambda: mock.patch.object(furniture.Furniture, "_names_main",
                                                         lambda self, el, depth: False),
        "unnamed columns": lambda: mock.patch.object(furniture.Furniture, "_foreign_column",
                                                     lambda self, el: False),
        "narrow grid columns": lambda: mock.patch.object(furniture.Furniture, "_narrow_column",
                                                         lambda self, el: False),
        "teaser parts": lambda: mock.patch.object(furniture.Furniture, "_teaser_part",
                                                  lambda self, el: False),
        "other sections' boxes": lambda: mock.patch.object(
            furniture.Furniture, "_other_section_boxes", lambda self, soup, base, url: []),
        "sections among ids": lambda: mock.patch.object(discover, "_unmarked_sections",
                                                        lambda candidates: set()),
        "ranked lists": lambda: mock.patch.object(furniture, "_ranked_lists", lambda soup: []),
        "listing guard": lambda: mock.patch.object(furniture.Furniture, "_holds_listing",
                                                   lambda self, el: False),
        "subdomains": lambda: mock.patch.object(discover, "same_site_family", same_site),
        "folder support": lambda: mock.patch.object(discover, "_FOLDER_SUPPORT", 10**9),
    }


def _canon() -> Callable[[str], str]:
    """The scorer's own URL comparison (tracking parameters and trailing slash dropped)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("score_listings", SCORER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    canon: Callable[[str], str] = module.canon
    return canon


def _chain(anchor: Any, depth: int = 8) -> str:
    parts: list[str] = []
    for el in (anchor, *anchor.parents):
        if el.name in ("[document]", "html", "body") or len(parts) == depth:
            break
        classes = el.get("class") or []
        parts.append(el.name + (f"#{el['id']}" if el.get("id") else "")
                     + "".join(f".{c}" for c in classes[:2]))
    return " < ".join(parts)


def explain(listings: Path, page: dict[str, Any], returned: list[str]) -> list[str]:
    """Lines naming the excluded links taken and the main links missed on one page."""
    from bs4 import BeautifulSoup

    from feeder.urls import try_clean_url

    canon = _canon()
    main = {canon(u) for u in page["truth"].get("article_urls", [])}
    excluded = {canon(u) for u in page["truth"].get("excluded_urls", [])} - main
    got = {canon(u) for u in returned}
    wanted = {"taken ": got & excluded, "missed": main - got}
    soup = BeautifulSoup((listings / page["path"]).read_bytes(), "lxml")
    tag = soup.find("base", href=True)
    base = try_clean_url(str(tag["href"]), page["url"]) if tag is not None else None
    lines = [f"{page['id']}: {len(wanted['taken '])} excluded links taken, "
             f"{len(wanted['missed'])} main links missed"]
    seen: set[str] = set()
    for a in soup.find_all("a", href=True):
        url = try_clean_url(str(a["href"]), base or page["url"])
        key = canon(url) if url else None
        for what, urls in wanted.items():
            if key in urls and key not in seen:
                seen.add(key)
                text = " ".join(a.get_text(" ", strip=True).split())[:60]
                lines.append(f"  {what} {text!r} {url}\n         {_chain(a)}")
    return lines


def run(listings: Path, manifest: list[dict[str, Any]],
        predictions: Path) -> list[dict[str, object]]:
    with predictions.open("w", encoding="utf-8") as out:
        for m in manifest:
            row = {"id": m["id"], **discover(listings / m["path"], m["url"])}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return score(listings, predictions)


def halves(rows: list[dict[str, object]], fold: dict[str, str]) -> dict[str, tuple[float, float]]:
    out = {}
    for half in ("A", "B"):
        mine = [r for r in rows if fold[str(r["id"])] == half]
        out[half] = (mean(mine, "recall") or 0.0, mean(mine, "excluded_taken") or 0.0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=Path, default=LISTINGS)
    parser.add_argument("--per-page", action="store_true", help="one row per page")
    parser.add_argument("--fold", choices=("A", "B"), help="per-page rows of this half only")
    parser.add_argument("--keep", type=Path, help="also write the predictions here")
    parser.add_argument("--ablate", action="store_true",
                        help="also switch each rule off in turn and print its gain per half")
    parser.add_argument("--explain", metavar="ID[,ID...]",
                        help="the excluded links taken and main links missed on these pages")
    args = parser.parse_args(argv)

    manifest = [json.loads(line) for line in
                (args.listings / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()]
    fold = {m["id"]: site_fold(m["site"]) for m in manifest}
    unknown = [i for i in (args.explain or "").split(",") if i and i not in fold]
    if unknown:
        parser.error(f"--explain: no page {', '.join(unknown)} in {args.listings}")
    with tempfile.TemporaryDirectory() as tmp:
        predictions = args.keep or Path(tmp) / "predictions.jsonl"
        rows = run(args.listings, manifest, predictions)
        explained = []
        if args.explain:
            found = {str(row["id"]): row.get("links") or [] for row in map(
                json.loads, predictions.read_text(encoding="utf-8").splitlines())}
            pages = {m["id"]: m for m in manifest}
            for page_id in args.explain.split(","):
                explained.extend(explain(args.listings, pages[page_id], found[page_id]))
        ablated = {}
        if args.ablate:
            for name, switch_off in _ablations().items():
                with switch_off():
                    ablated[name] = run(args.listings, manifest, Path(tmp) / "ablated.jsonl")

    if args.per_page:
        for r in rows:
            if args.fold in (None, fold[str(r["id"])]):
                values = "  ".join(f"{k[:4]} {_rounded(r[k])}" for k in METRICS)
                error = f"  ERROR {r['error']}" if r["error"] else ""
                print(f"{fold[str(r['id'])]} {r['id']:36} {values}  returned {r['returned']}"
                      + error)
    print(f"all          {figures(rows)}")
    for kind in ("home", "section"):
        print(f"  {kind:10} {figures([r for r in rows if r['kind'] == kind])}")
    for half in ("A", "B"):
        print(f"sites {half}      {figures([r for r in rows if fold[str(r['id'])] == half])}")
    if ablated:
        now = halves(rows, fold)
        print("rule gains (recall, excluded taken: positive is better), per half of the sites")
        for name, other in ablated.items():
            off = halves(other, fold)
            print(f"  {name:22} " + "   ".join(
                f"{h}: recall {now[h][0] - off[h][0]:+.4f} excluded {off[h][1] - now[h][1]:+.4f}"
                for h in ("A", "B")))
    for line in explained:
        print(line)
    errors = [r for r in rows if r["error"]]
    if errors:
        print(f"errors: {len(errors)} ({', '.join(str(r['id']) for r in errors)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

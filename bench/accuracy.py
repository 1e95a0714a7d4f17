"""Extraction accuracy: feeder vs trafilatura on every set of ../shared/corpus, in one run.

Usage: .venv/bin/python bench/accuracy.py [--sets fundus,wcxb-dev] [--corpus DIR] [--every N]
                                          [--keep DIR] [--no-anchor] [--rules [NAMES]]

For each set, feeder's batch extraction (``feeder.extract.batch.run_batch``, what
``feeder extract --batch`` runs) and trafilatura 2.3.1 ``bare_extraction(with_metadata=True)``
(mapped to the same record fields) both write a predictions file; both are scored by
../shared/tools/score_extraction.py and printed side by side, with the pages whose body F1 is under
0.5 and the records that came back with an empty body.

Site-grouped figures: pages are grouped by site (the host of ``url``; in trafilatura-eval the
domain in the file name). "site-avg" weighs each site once, so a site with many pages cannot carry
the score. ``--rules`` switches each named rule of the body finder off in turn (see
``feeder/extract/rules.py``), re-extracts the pages where it fired and prints its gain per site
group; "held-out gain" is leave-one-site-out: for each site, the rule counts only if it gains on
all the other sites together, and then its gain on the left-out site is summed. A rule that wins
only where it was written scores <= 0 there. trafilatura-eval was never used to write a rule, so
its column is a clean out-of-sample figure.

trafilatura's output is cached per page (``--cache``, default /tmp/feeder-trafilatura-cache): the
anchor does not change between runs.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import statistics
import sys
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
# ../shared from /work/main or from a worktree; FEEDER_SHARED names it elsewhere.
SHARED = Path(os.environ.get("FEEDER_SHARED") or next(
    (p / "shared" for p in ROOT.parents if (p / "shared" / "corpus").is_dir()),
    ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
SCORER = SHARED / "tools" / "score_extraction.py"
sys.path.insert(0, str(ROOT))

from feeder.charset import decode_html  # noqa: E402
from feeder.errors import FeederError  # noqa: E402
from feeder.extract import extract, rules  # noqa: E402
from feeder.pagefile import read_page  # noqa: E402

METRICS = ("title_exact", "authors_exact", "authors_any", "date_day", "date_minute", "body_f1",
           "with", "without", "summary_f1", "caption_recall", "coverage")
TRAFILATURA_CACHE = Path(tempfile.gettempdir()) / "feeder-trafilatura-cache"
Predictions = dict[str, dict[str, object]]  # page id -> {"record": ...} or {"error": ...}


def load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def site_of(url: str, page_id: str) -> str:
    """The site a page belongs to: its host without "www.", or the domain in its file name."""
    if url.startswith(("http://", "https://")):
        inner = re.search(r"/web/\d+/(https?://.+)", url)  # an archived copy: the site archived
        return registered_domain(urlsplit(inner.group(1) if inner else url).hostname or "")
    name = (url.split("::")[-1] if "::" in url else page_id).removesuffix(".html")
    found = re.match(r"(?:traf-)?((?:[\w-]+\.)+?[a-z]{2,6})(?:-|$)", name)
    return registered_domain(found.group(1) if found else name)


def registered_domain(host: str) -> str:
    """"news.bbc.co.uk" -> "bbc.co.uk", "edition.cnn.com" -> "cnn.com" (one publisher)."""
    labels = host.lower().split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and len(labels[-2]) <= 3 else 2
    return ".".join(labels[-keep:])


def manifest_entries(manifest: Path, every: int) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in manifest.open(encoding="utf-8") if line.strip()]
    return lines[::every]


def feeder_one(root: Path, entry: dict[str, object]) -> dict[str, object]:
    try:
        body = read_page(root / str(entry["path"]))
        return {"record": extract(body, str(entry.get("url") or ""), timezone=None).to_dict()}
    except (FeederError, OSError, ValueError, KeyError, EOFError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def run_feeder(root: Path, entries: list[dict[str, object]],
               fired: dict[str, set[str]] | None = None) -> Predictions:
    """feeder's record for each page; ``fired`` collects, per rule, the pages it fired on."""
    out: Predictions = {}
    for entry in entries:
        rules.fired.clear()
        out[str(entry["id"])] = feeder_one(root, entry)
        if fired is not None:
            for name in rules.fired:
                fired[name].add(str(entry["id"]))
    return out


def trafilatura_record(html: str, url: str) -> dict[str, object]:
    """trafilatura's document mapped to the canonical record fields the scorer reads."""
    from trafilatura import bare_extraction

    doc = bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        raise ValueError("no result")
    get = doc.get if isinstance(doc, dict) else (lambda k: getattr(doc, k, None))
    author = get("author") or ""
    return {
        "title": get("title"),
        "authors": [a.strip() for a in author.split(";") if a.strip()],
        "published": get("date"),
        "summary": get("description"),
        "content_text": get("text") or "",
        "images": [],
    }


def run_trafilatura(root: Path, entries: list[dict[str, object]], cache: Path) -> Predictions:
    """trafilatura's record per page, from the cache when this page was done before."""
    import trafilatura

    cache.mkdir(parents=True, exist_ok=True)
    out: Predictions = {}
    for entry in entries:
        raw = read_page(root / str(entry["path"]))
        url = str(entry.get("url") or "")
        key = hashlib.sha256(raw + url.encode() + trafilatura.__version__.encode()).hexdigest()
        cached = cache / f"{key[:40]}.json"
        if cached.exists():
            out[str(entry["id"])] = json.loads(cached.read_text(encoding="utf-8"))
            continue
        try:
            result: dict[str, object] = {
                "record": trafilatura_record(decode_html(raw)[0], url)}
        except Exception as exc:  # the anchor may fail in any way; count it as no record
            result = {"error": repr(exc)}
        cached.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        out[str(entry["id"])] = result
    return out


def score(scorer: ModuleType, set_dir: Path, entries: list[dict[str, object]],
          predictions: Predictions, work: Path, label: str
          ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """The scorer's summary and per-page scores for the pages in ``entries``."""
    subset = set_dir / "manifest.jsonl"
    if len(entries) != sum(1 for line in subset.open(encoding="utf-8") if line.strip()):
        subset = work / label / "manifest.jsonl"
        subset.parent.mkdir(parents=True, exist_ok=True)
        subset.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries),
                          encoding="utf-8")
    pred_path = work / f"{label}.jsonl"
    with pred_path.open("w", encoding="utf-8") as out:
        for page_id, result in predictions.items():
            out.write(json.dumps({"id": page_id, **result}, ensure_ascii=False) + "\n")
    summary, pages = scorer.score(str(subset.parent), str(pred_path))
    return summary, {p["id"]: p for p in pages}


def page_value(page: dict[str, float]) -> float | None:
    """One number per page for the site-grouped figures: body F1 where the truth has a body,
    else the mean of the must-contain / must-not-contain shares."""
    if "body_f1" in page:
        return page["body_f1"]
    parts = [page[m] for m in ("with", "without") if m in page]
    return statistics.fmean(parts) if parts else None


def site_average(pages: dict[str, dict[str, float]], sites: dict[str, str]) -> float | None:
    by_site: dict[str, list[float]] = defaultdict(list)
    for page_id, page in pages.items():
        value = page_value(page)
        if value is not None:
            by_site[sites[page_id]].append(value)
    if not by_site:
        return None
    return statistics.fmean(statistics.fmean(v) for v in by_site.values())


def body_counts(predictions: Predictions, pages: dict[str, dict[str, float]]) -> tuple[int, int]:
    """Pages with body F1 under 0.5, and records (or errors) with no body at all."""
    low = sum(1 for p in pages.values() if p.get("body_f1", 1.0) < 0.5)
    empty = 0
    for result in predictions.values():
        record = result.get("record")
        if not isinstance(record, dict) or not str(record.get("content_text") or "").strip():
            empty += 1
    return low, empty


def print_set(name: str, ours: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]],
              theirs: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]] | None,
              counts: tuple[tuple[int, int], tuple[int, int] | None],
              sites: dict[str, str], errors: int) -> None:
    print(f"\n## {name}  ({len(ours[1])} pages, {len(set(sites.values()))} sites, "
          f"{errors} errors)")
    print(f"| {'metric':15s} | {'feeder':>7s} | {'trafilatura':>11s} | pages |")
    print(f"|{'-' * 17}|{'-' * 9}|{'-' * 13}|-------|")
    for metric in METRICS:
        if metric not in ours[0]:
            continue
        mine = ours[0][metric]
        other = theirs[0].get(metric, {}).get("score") if theirs else None
        other_s = f"{other:11.3f}" if other is not None else f"{'-':>11s}"
        print(f"| {metric:15s} | {mine['score']:7.3f} | {other_s} | {int(mine['pages']):5d} |")
    (low, empty), anchor = counts
    has_body = any("body_f1" in p for p in ours[1].values())
    if has_body:
        print(f"| {'body_f1 < 0.5':15s} | {low:7d} | {anchor[0] if anchor else '-':>11} | "
              f"{'':5s} |")
    print(f"| {'empty body':15s} | {empty:7d} | {anchor[1] if anchor else '-':>11} | {'':5s} |")
    mine_avg = site_average(ours[1], sites)
    other_avg = site_average(theirs[1], sites) if theirs else None
    if mine_avg is not None:
        other_s = f"{other_avg:11.3f}" if other_avg is not None else f"{'-':>11s}"
        print(f"| {'site-avg':15s} | {mine_avg:7.3f} | {other_s} | {'':5s} |")


def held_out_gain(gains: dict[str, float]) -> float:
    """Leave-one-site-out gain of a rule from its gain per site (sum of page-value changes).

    The rule is kept for a left-out site only when it gains on the other sites together; its
    gain there is then what it brings to a site it was not written for.
    """
    total = sum(gains.values())
    return sum(gain for gain in gains.values() if total - gain > 0)


def ablate(names: Iterable[str], sets: list[tuple[str, Path, list[dict[str, object]]]],
           base: dict[str, Predictions], base_pages: dict[str, dict[str, dict[str, float]]],
           fired: dict[str, set[str]], sites: dict[str, dict[str, str]], scorer: ModuleType,
           work: Path) -> None:
    print("\n## rules: gain of each rule (base minus rule switched off), per site group")
    print("page value: body F1, else mean of with/without; gains are sums over pages")
    header = " | ".join(f"{name[:16]:>16s}" for name, _, _ in sets)
    print(f"| {'rule':28s} | pages | sites | {header} | held-out gain | captions |")
    for rule in names:
        rules.disabled.add(rule)
        cells: list[str] = []
        per_site: dict[str, float] = defaultdict(float)
        captions = 0.0  # caption recall: the pictures' side of a rule, apart from the text
        touched = 0
        try:
            for name, set_dir, entries in sets:
                hit = [e for e in entries if str(e["id"]) in fired.get(rule, set())]
                touched += len(hit)
                if not hit:
                    cells.append(f"{'':>16s}")
                    continue
                off = run_feeder(set_dir, hit)
                preds = {**base[name], **off}
                _, pages = score(scorer, set_dir, entries, preds, work, f"{name}.off")
                gain = 0.0
                for page_id in off:
                    before = page_value(base_pages[name][page_id])
                    after = page_value(pages[page_id])
                    captions += base_pages[name][page_id].get("caption_recall", 0.0) - pages[
                        page_id].get("caption_recall", 0.0)
                    if before is not None and after is not None:
                        per_site[f"{name}/{sites[name][page_id]}"] += before - after
                        gain += before - after
                cells.append(f"{gain:+16.2f}")
        finally:
            rules.disabled.discard(rule)
        n_sites = len({f"{n}/{sites[n][i]}" for n, _, es in sets for e in es
                       if (i := str(e["id"])) in fired.get(rule, set())})
        print(f"| {rule:28s} | {touched:5d} | {n_sites:5d} | {' | '.join(cells)} | "
              f"{held_out_gain(per_site):+13.2f} | {captions:+8.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="", help="comma-separated set names (default: all)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of sets")
    parser.add_argument("--every", type=int, default=1, help="take every Nth page (a subset)")
    parser.add_argument("--keep", type=Path, help="keep the predictions files in this folder")
    parser.add_argument("--no-anchor", action="store_true", help="skip trafilatura")
    parser.add_argument("--cache", type=Path, default=TRAFILATURA_CACHE)
    parser.add_argument("--rules", nargs="?", const="all", default="",
                        help="switch rules off one at a time (comma-separated names or all)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    scorer = load_scorer()
    corpus: Path = args.corpus
    names = [s for s in args.sets.split(",") if s] or sorted(
        p.name for p in corpus.iterdir() if (p / "manifest.jsonl").exists())
    work = args.keep or Path(tempfile.mkdtemp(prefix="feeder-accuracy-"))
    work.mkdir(parents=True, exist_ok=True)
    fired: dict[str, set[str]] = defaultdict(set)
    sets: list[tuple[str, Path, list[dict[str, object]]]] = []
    base: dict[str, Predictions] = {}
    base_pages: dict[str, dict[str, dict[str, float]]] = {}
    sites: dict[str, dict[str, str]] = {}
    for name in names:
        set_dir = corpus / name
        entries = manifest_entries(set_dir / "manifest.jsonl", args.every)
        sites[name] = {str(e["id"]): site_of(str(e.get("url") or ""), str(e["id"]))
                       for e in entries}
        ours = run_feeder(set_dir, entries, fired)
        ours_scores = score(scorer, set_dir, entries, ours, work, f"{name}.feeder")
        theirs_scores = None
        anchor_counts = None
        if not args.no_anchor:
            theirs = run_trafilatura(set_dir, entries, args.cache)
            theirs_scores = score(scorer, set_dir, entries, theirs, work, f"{name}.trafilatura")
            anchor_counts = body_counts(theirs, theirs_scores[1])
        errors = sum(1 for r in ours.values() if "error" in r)
        print_set(name, ours_scores, theirs_scores,
                  (body_counts(ours, ours_scores[1]), anchor_counts), sites[name], errors)
        sets.append((name, set_dir, entries))
        base[name] = ours
        base_pages[name] = ours_scores[1]
    if args.rules:
        chosen = sorted(fired) if args.rules == "all" else args.rules.split(",")
        ablate(chosen, sets, base, base_pages, fired, sites, scorer, work)
    print(f"\npredictions in {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

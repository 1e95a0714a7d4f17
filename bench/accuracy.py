"""Extraction accuracy: feeder vs trafilatura on every set of ../shared/corpus, in one run.

Usage: .venv/bin/python bench/accuracy.py [--sets fundus,wcxb-dev] [--keep DIR] [--no-anchor]

For each set, feeder's batch extraction (``feeder.extract.batch.run_batch``, what
``feeder extract --batch`` runs) and trafilatura 2.3.1 ``bare_extraction(with_metadata=True)``
(mapped to the same record fields) both write a predictions file; both are scored by
../shared/tools/score_extraction.py and printed side by side.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import warnings
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SCORER = SHARED / "tools" / "score_extraction.py"
sys.path.insert(0, str(ROOT))

from feeder.charset import decode_html  # noqa: E402
from feeder.extract.batch import read_page, run_batch  # noqa: E402

METRICS = ("title_exact", "authors_exact", "authors_any", "date_day", "date_minute", "body_f1",
           "with", "without", "summary_f1", "caption_recall", "coverage")


def load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_extraction", SCORER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def run_trafilatura(manifest: Path, out_path: Path) -> None:
    root = manifest.parent
    with manifest.open(encoding="utf-8") as lines, out_path.open("w", encoding="utf-8") as out:
        for line in lines:
            if not line.strip():
                continue
            entry = json.loads(line)
            try:
                text = decode_html(read_page(root / entry["path"]))[0]
                rec = trafilatura_record(text, entry.get("url") or "")
                out.write(json.dumps({"id": entry["id"], "record": rec}, ensure_ascii=False) + "\n")
            except Exception as exc:  # the anchor may fail in any way; count it as no record
                out.write(json.dumps({"id": entry["id"], "error": repr(exc)}) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="", help="comma-separated set names (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the predictions files in this folder")
    parser.add_argument("--no-anchor", action="store_true", help="skip trafilatura")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    scorer = load_scorer()
    sets = [s for s in args.sets.split(",") if s] or sorted(
        p.name for p in CORPUS.iterdir() if (p / "manifest.jsonl").exists())
    work = args.keep or Path(tempfile.mkdtemp(prefix="feeder-accuracy-"))
    work.mkdir(parents=True, exist_ok=True)
    for name in sets:
        manifest = CORPUS / name / "manifest.jsonl"
        ours = work / f"{name}.feeder.jsonl"
        with ours.open("w", encoding="utf-8") as out:
            ok, failed = run_batch(manifest, out)
        ours_scores, _ = scorer.score(str(CORPUS / name), str(ours))
        theirs_scores: dict[str, dict[str, float]] = {}
        if not args.no_anchor:
            theirs = work / f"{name}.trafilatura.jsonl"
            run_trafilatura(manifest, theirs)
            theirs_scores, _ = scorer.score(str(CORPUS / name), str(theirs))
        print(f"\n## {name}  ({ok} records, {failed} errors)")
        print(f"| {'metric':15s} | {'feeder':>7s} | {'trafilatura':>11s} | pages |")
        print(f"|{'-' * 17}|{'-' * 9}|{'-' * 13}|-------|")
        for metric in METRICS:
            if metric not in ours_scores:
                continue
            mine = ours_scores[metric]
            other = theirs_scores.get(metric, {}).get("score")
            other_s = f"{other:11.3f}" if other is not None else f"{'-':>11s}"
            print(f"| {metric:15s} | {mine['score']:7.3f} | {other_s} | {mine['pages']:5d} |")
    print(f"\npredictions in {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""RFC 5005 archives at scale: what keeping every month costs when one article arrives.

One source with ``--articles`` stored articles spread over ``--months`` months (SQLite in a
temporary folder), its feed holding the newest ``--max-items``. Timed, each the median of
``--repeat`` runs, as ratios against an anchor measured in the same run:

* anchor: publishing the source's current feed alone (``publish_source``),
* first build: every archive month rendered and written (a new installation),
* idle: nothing changed (fingerprints compared, no archive read or written),
* one new article: a new item pushes one item into the newest month: that month (and the state
  file) is rewritten, the finished months are not read.

It also checks what it measures: the first build writes every month, an idle pass writes none,
one new article rewrites exactly the newest month; the exit status is 1 otherwise.

    .venv/bin/python bench/archive.py [--articles 5000] [--months 24] [--max-items 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feeder.config import Settings, Source  # noqa: E402
from feeder.model import Article, SourceFeed  # noqa: E402
from feeder.publish import publish_source  # noqa: E402
from feeder.publish.archive import publish_archives  # noqa: E402
from feeder.store import Intent, Store  # noqa: E402

VN = timezone(timedelta(hours=7))


def article(source: Source, n: int, when: datetime) -> Article:
    url = f"https://bench.example.vn/tin/bai-{n}.html"
    body = f"<p>Bài số {n}: nội dung chi tiết của bài viết, đủ dài để giống một bài báo.</p>" * 8
    return Article(url=url, title=f"Bài viết số {n}", source=source.id, content_html=body,
                   content_text=body, summary=f"Tóm tắt bài {n}.", published=when,
                   authors=("Phóng viên",), language="vi")


def median_seconds(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=5000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--max-items", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    source = Source(id="bench", name="Báo Đo Đạc", urls=("https://bench.example.vn/",),
                    max_items=args.max_items)
    start = datetime(2019, 1, 1, 8, 0, tzinfo=VN)
    step = timedelta(days=30.4 * args.months) / args.articles
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "public"
        settings = Settings(out=out, base_url="http://127.0.0.1:8080/")
        store = Store(f"sqlite:///{tmp}/bench.db")
        arts = [article(source, n, start + step * n) for n in range(args.articles)]
        store.apply(source.id, [Intent("new", a, a.url) for a in arts])

        def feed() -> list[Path]:
            return publish_source(settings, SourceFeed(
                source, store.articles_for(source.id, source.max_items)))

        def archives() -> int:
            return len(publish_archives(settings, source, store).changed)

        anchor, _ = median_seconds(feed, args.repeat)
        first_started = time.perf_counter()
        first_written = archives()
        first = time.perf_counter() - first_started
        months = len(list((out / source.id / "archive").glob("*.xml")))
        idle, idle_written = median_seconds(archives, args.repeat)

        extra = iter(range(args.articles, args.articles + 10 * args.repeat))

        def one_new() -> int:
            n = next(extra)
            a = article(source, n, start + step * n)
            store.apply(source.id, [Intent("new", a, a.url)])
            return archives()

        new, new_written = median_seconds(one_new, args.repeat)
        store.close()

    print(f"{args.articles} articles over {args.months} months, feed of {args.max_items}: "
          f"{months} archive months")
    print(f"anchor  publish the current feed        {anchor * 1000:8.1f} ms   1.00x")
    for label, seconds, written in (
            ("first build, every month", first, first_written),
            ("idle, nothing changed", idle, idle_written),
            ("one new article", new, new_written)):
        print(f"archive {label:27} {seconds * 1000:8.1f} ms {seconds / anchor:6.2f}x  "
              f"files written: {written}")
    # Each month is its archive and its .gz (plus the Cache-Control map when it changes).
    ok = first_written >= 2 * months and idle_written == 0 and new_written in (2, 3)
    if not ok:
        print("archive: unexpected number of files written", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Soak: `feeder run` for --duration seconds against hostile loopback sources, killed with -9
(issue 9).

A generated site on 127.0.0.1 (``--ports`` ports, each one "host") serves ``--sources`` sources;
``--hostile`` of them are drawn, in turn, from every class of issue 9 and issue 5:

    retry-after-huge   listing: 503, Retry-After: 99999999999999
    retry-after-9999   listing: 429, Retry-After: Fri, 31 Dec 9999 23:59:59 GMT
    drip               two article pages that drip a byte every 0.2 s for ever
    vertical-tab       \\x0b / \\x0c after a removed script, iframe, nav and inside an href
    giant-title        10,000-character headlines
    ref-variants       each article linked under 20 ?ref= / utm_* variants, no canonical link
    private-images     images on 169.254.169.254, 10/8, fd00::/8
    canonical-takeover one page names another listed article's URL as its canonical
    garbage            listing of random bytes
    truncated          listing whose body stops halfway (Content-Length says more)
    http-500           listing answers 500
    gzip-bomb          an article page of 1 MB gzip that inflates to 1 GB
    huge-listing       3,000 links (to pages that are gone)
    redirect-loop      listing redirects to itself

Healthy sources (and healthy pages of hostile ones) get a new article every ``--new-every``
seconds. ``feeder run -v`` runs as a child process; every ``--kill-every`` seconds (at a random
moment inside each period) it is killed with SIGKILL and started again at once. For the last
``--settle`` seconds nothing is killed and the site stops changing; then the process must be up,
is stopped with SIGTERM, and the bench checks:

* every article of every healthy source, and of the hostile sources whose pages feeder must get
  right (vertical-tab, giant-title, ref-variants, private-images, canonical-takeover, drip and
  gzip-bomb's healthy pages), is in rss.xml, atom.xml, feed.json and their .gz, each exactly once;
* the files equal the store (each feed's item links are the store's newest ``max_items``);
* every published file is complete and every .gz equals its plain file;
* headlines in the feeds are at most 300 characters;
* the sources whose listing is hostile are reported as failing by `feeder status`;
* the log has no traceback.

It prints the figures (kills, restarts, polls, polls per source and interval against the ideal,
items checked, mismatches) and exits 1 when a check fails.

    nice .venv/bin/python bench/soak.py [--duration 600] [--sources 200] [--hostile 20]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.site import (  # noqa: E402
    Reply,
    SiteServer,
    article_html,
    check_published,
    gzip_bomb,
    listing_html,
    write_config,
)

CLASSES = ("retry-after-huge", "retry-after-9999", "drip", "vertical-tab", "giant-title",
           "ref-variants", "private-images", "canonical-takeover", "garbage", "truncated",
           "http-500", "gzip-bomb", "huge-listing", "redirect-loop")
# Hostile classes whose articles must still be published, each once.
MUST_PUBLISH = frozenset({"drip", "vertical-tab", "giant-title", "ref-variants", "private-images",
                          "canonical-takeover", "gzip-bomb"})
# Hostile classes whose listing can never be read: `feeder status` must show them failing.
MUST_FAIL = frozenset({"retry-after-huge", "retry-after-9999", "truncated", "http-500",
                       "redirect-loop"})
INITIAL_ARTICLES = 4
MAX_TITLE = 300
INTERVAL = 60
Handler = Callable[[BaseHTTPRequestHandler], None]


def _title(i: int, n: int) -> str:
    return f"Bài {n} của nguồn {i}: hội nghị tổng kết công tác năm"


@dataclass
class SoakSite:
    """What each source serves, as a function of the time since the start."""

    sources: int
    hostile: dict[int, str]
    new_every: float
    started: float = field(default_factory=time.monotonic)
    frozen_at: float | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    srv: SiteServer | None = None
    rng: random.Random = field(default_factory=lambda: random.Random(9))

    def articles(self, i: int) -> int:
        now = self.frozen_at if self.frozen_at is not None else time.monotonic()
        # Staggered per source so that new articles arrive all the time, not in waves.
        return INITIAL_ARTICLES + int((now - self.started + i * 7 % self.new_every)
                                      // self.new_every)

    def base(self, i: int) -> str:
        assert self.srv is not None
        return self.srv.url("", i)

    def article_url(self, i: int, n: int) -> str:
        return f"{self.base(i)}/s{i}/tin-{n}-hoi-nghi.html"

    def expected(self, i: int) -> list[str]:
        """The article URLs (ids) source ``i`` must publish."""
        kind = self.hostile.get(i)
        if kind is not None and kind not in MUST_PUBLISH:
            return []
        urls = [self.article_url(i, n) for n in range(self.articles(i))]
        if kind == "canonical-takeover":
            urls.append(f"{self.base(i)}/s{i}/ke-mao-danh.html")
        return urls

    # -- pages -----------------------------------------------------------------------------

    def resolve(self, path: str) -> Reply | Handler | None:
        m = re.fullmatch(r"/s(\d+)/(.*)", path.split("?")[0])
        if not m or int(m.group(1)) >= self.sources:
            return None
        i, rest = int(m.group(1)), m.group(2)
        kind = self.hostile.get(i)
        if rest == "":
            return self.listing(i, kind)
        if rest == "ke-mao-danh.html" and kind == "canonical-takeover":
            # Names article 0's URL as canonical, with its own headline: must stay apart.
            return Reply.html(article_html(self.article_url(i, 0), f"Kẻ mạo danh của nguồn {i}",
                                           minute=999))
        if rest.startswith("cham-") and kind == "drip":
            return self.drip
        if rest == "bom.html" and kind == "gzip-bomb":
            return Reply(gzip_bomb(), 200, {"Content-Type": "text/html; charset=utf-8",
                                       "Content-Encoding": "gzip"})
        am = re.fullmatch(r"tin-(\d+)-hoi-nghi\.html", rest)
        if am and int(am.group(1)) < self.articles(i):
            return Reply.html(self.article(i, int(am.group(1)), kind))
        return None

    def listing(self, i: int, kind: str | None) -> Reply | Handler:
        links = [self.article_url(i, n) for n in range(self.articles(i))]
        if kind == "retry-after-huge":
            return Reply(b"busy", 503, {"Content-Type": "text/plain",
                                        "Retry-After": "99999999999999"})
        if kind == "retry-after-9999":
            return Reply(b"later", 429, {"Content-Type": "text/plain",
                                         "Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"})
        if kind == "http-500":
            return Reply(b"<h1>Internal Server Error</h1>", 500, {"Content-Type": "text/html"})
        if kind == "garbage":
            return Reply(self.rng.randbytes(20_000), 200, {"Content-Type": "text/html"})
        if kind == "redirect-loop":
            return Reply(b"", 302, {"Location": f"/s{i}/"})
        if kind == "truncated":
            body = listing_html(links).encode()

            def truncated(h: BaseHTTPRequestHandler) -> None:
                h.send_response(200)
                h.send_header("Content-Type", "text/html; charset=utf-8")
                h.send_header("Content-Length", str(len(body) * 10))
                h.end_headers()
                h.wfile.write(body[: len(body) // 2])
                h.close_connection = True
            return truncated
        if kind == "huge-listing":
            links += [f"{self.base(i)}/s{i}/da-xoa-{n}.html" for n in range(3000)]
        if kind == "ref-variants":
            links = [f"{u}?{q}" for u in links for q in (
                *(f"ref={n}" for n in range(17)), "utm_source=zalo", "fbclid=x1", "gclid=y2")]
        if kind == "drip":
            links += [f"{self.base(i)}/s{i}/cham-{n}.html" for n in (1, 2)]
        if kind == "gzip-bomb":
            links.append(f"{self.base(i)}/s{i}/bom.html")
        if kind == "canonical-takeover":
            links.insert(0, f"{self.base(i)}/s{i}/ke-mao-danh.html")
        return Reply.html(listing_html(links))

    def article(self, i: int, n: int, kind: str | None) -> str:
        url = self.article_url(i, n)
        title, body = _title(i, n), ""
        if kind == "giant-title":
            title = " ".join([f"Tiêu đề rất dài số {n}"] * 500)
        elif kind == "vertical-tab":
            body = ("<p>Mở đầu<script>var a = 1;</script>\x0bđoạn tiếp.</p>"
                    "<p>Một<iframe src='/v'></iframe>\x0chai <nav>x</nav>\x0b ba.</p>"
                    "<p><a href='/s0/bai\x0bkhac.html'>liên kết</a></p>")
        elif kind == "private-images":
            body = ("<figure><img src='http://169.254.169.254/latest/meta-data/a.jpg'>"
                    "<figcaption>Ảnh</figcaption></figure>"
                    "<p><img src='http://10.0.0.1/b.jpg'><img src='http://[fd00::1]/c.jpg'></p>")
        page = article_html(url, title, body=body, minute=n)
        if kind == "ref-variants":
            page = re.sub(r"<link rel=\"canonical\"[^>]*>", "", page)
        return page

    def drip(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.end_headers()
        try:
            h.wfile.write(b"<html><body><p>")
            while not self.stopping.wait(0.2):
                h.wfile.write(b"x")
                h.wfile.flush()
        except OSError:
            pass
        h.close_connection = True


# -- the feeder process ----------------------------------------------------------------------

class Feeder:
    """`feeder run -v` as a child process, its log appended to one file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "feeder", "--config", str(self.config), "-v", "run"],
                stdout=out, stderr=out, env=env, cwd=self.config.parent)
        self.starts += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9


# -- checks ----------------------------------------------------------------------------------

def feed_items(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """(link, title) of each item of each format, plain and .gz."""
    out: dict[str, list[tuple[str, str]]] = {}
    ns = {"a": "http://www.w3.org/2005/Atom"}
    from lxml import etree

    for name in ("rss.xml", "atom.xml", "feed.json"):
        for label in (name, f"{name}.gz"):
            path = folder / label
            if not path.exists():
                out[label] = []
                continue
            data = path.read_bytes()
            if label.endswith(".gz"):
                data = gzip.decompress(data)
            if name == "feed.json":
                out[label] = [(i["url"], i.get("title", "")) for i in json.loads(data)["items"]]
            elif name == "rss.xml":
                root = etree.fromstring(data)
                out[label] = [(it.findtext("link") or "", it.findtext("title") or "")
                              for it in root.iter("item")]
            else:
                root = etree.fromstring(data)
                out[label] = [
                    (next((ln.get("href", "") for ln in e.findall("a:link", ns)
                           if ln.get("rel", "alternate") == "alternate"), ""),
                     e.findtext("a:title", "", ns))
                    for e in root.iter("{http://www.w3.org/2005/Atom}entry")]
    return out


@dataclass
class Figures:
    expected_items: int = 0
    found_items: int = 0
    missing: int = 0
    duplicates: int = 0
    files_not_store: int = 0
    long_titles: int = 0
    failing_reported: int = 0
    must_fail: int = 0
    tracebacks: int = 0
    polls: int = 0
    problems: list[str] = field(default_factory=list)


def check(site: SoakSite, work: Path, config: Path, max_items: int) -> Figures:
    from feeder.store import Store

    out = work / "public"
    f = Figures()
    problems = f.problems
    try:
        check_published(out)
    except AssertionError as exc:
        problems.append(f"published files: {exc}")
    store = Store(f"sqlite:///{work / 'feeder.db'}")
    for i in range(site.sources):
        sid = f"s{i}"
        items = feed_items(out / sid)
        stored = [a.url for a in store.articles_for(sid, max_items)]
        want = site.expected(i)
        f.expected_items += len(want) * len(items)
        for label, got in items.items():
            links = [link for link, _ in got]
            f.found_items += sum(1 for u in want if u in links)
            for u in want:
                if links.count(u) == 0:
                    f.missing += 1
                    problems.append(f"{sid} {label}: missing {u}")
                elif links.count(u) > 1:
                    f.duplicates += 1
                    problems.append(f"{sid} {label}: {u} {links.count(u)} times")
            if sorted(links) != sorted(stored):
                f.files_not_store += 1
                problems.append(f"{sid} {label}: {len(links)} items, store has {len(stored)}")
            f.long_titles += sum(len(t) > MAX_TITLE for _, t in got)
    store.close()
    if f.long_titles:
        problems.append(f"{f.long_titles} headlines longer than {MAX_TITLE} characters")
    status = subprocess.run([sys.executable, "-m", "feeder", "--config", str(config), "status",
                             "--json"], capture_output=True, text=True, cwd=work,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        rows = {r["source"]: r for r in json.loads(status.stdout)}
    except (ValueError, TypeError, KeyError):
        rows = {}
        problems.append(f"feeder status --json: {status.stdout[:200]} {status.stderr[-300:]}")
    for i, kind in site.hostile.items():
        if kind in MUST_FAIL:
            row = rows.get(f"s{i}", {})
            if row.get("last_error") or row.get("consecutive_failures"):
                f.failing_reported += 1
            else:
                problems.append(f"s{i} ({kind}): feeder status does not show it failing: {row}")
    log = (work / "feeder.log").read_text(errors="replace")
    f.tracebacks = log.count("Traceback (most recent call last)")
    if f.tracebacks:
        first = log.index("Traceback (most recent call last)")
        problems.append(f"{f.tracebacks} tracebacks in the log; first:\n"
                        f"{log[first:first + 2000]}")
    f.must_fail = sum(k in MUST_FAIL for k in site.hostile.values())
    f.polls = log.count("poll.done") + log.count("poll.failed")
    return f


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of killing (600)")
    ap.add_argument("--settle", type=float, default=150.0,
                    help="seconds without kills or new articles before the checks (150)")
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--hostile", type=int, default=20)
    ap.add_argument("--ports", type=int, default=8)
    ap.add_argument("--kill-every", type=float, default=30.0)
    ap.add_argument("--new-every", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--keep", metavar="DIR", help="work in DIR (kept) instead of a temp dir")
    args = ap.parse_args()
    rng = random.Random(args.seed)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="feeder-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    hostile_ids = rng.sample(range(args.sources), args.hostile)
    site = SoakSite(args.sources, {i: CLASSES[n % len(CLASSES)]
                                   for n, i in enumerate(sorted(hostile_ids))}, args.new_every)
    srv = SiteServer(site.resolve, ports=args.ports)
    site.srv = srv
    max_items = 50
    with srv:
        config = write_config(
            work / "feeder.toml",
            {"out": "public", "database": "feeder.db", "host_delay": 0.0,
             "respect_robots": False, "workers": 8, "connect_timeout": 2.0,
             "read_timeout": 2.0, "poll_timeout": 20.0},
            [{"id": f"s{i}", "name": f"Nguồn {i}", "url": f"{site.base(i)}/s{i}/",
              "interval": f"{INTERVAL}s", "max_items": max_items}
             for i in range(args.sources)])
        feeder = Feeder(config, work / "feeder.log")
        print(f"feeder soak: {args.sources} sources ({args.hostile} hostile: "
              f"{', '.join(sorted(set(site.hostile.values())))}), {args.duration:g} s with "
              f"kill -9 every {args.kill_every:g} s, then {args.settle:g} s settling; "
              f"work dir {work}", flush=True)
        started = time.monotonic()
        feeder.start()
        kills = 0
        deaths = 0  # the process found dead on its own (a crash)

        def keep_up_until(t: float) -> None:
            nonlocal deaths
            while time.monotonic() < t:
                if not feeder.alive():
                    deaths += 1
                    feeder.start()
                time.sleep(0.2)

        # One kill in each period of --kill-every seconds, at a random moment inside it.
        for period in range(int(args.duration // args.kill_every)):
            keep_up_until(started + (period + rng.uniform(0.1, 0.9)) * args.kill_every)
            feeder.kill()
            kills += 1
            feeder.start()
        keep_up_until(started + args.duration)
        site.frozen_at = time.monotonic()
        keep_up_until(time.monotonic() + args.settle)
        up = feeder.alive()
        code = feeder.stop()
        site.stopping.set()
        wall = time.monotonic() - started
        stats = dict(srv.stats)

    fig = check(site, work, config, max_items)
    ideal = args.sources * (wall / INTERVAL)
    print(f"wall {wall:.0f} s  kills {kills}  starts {feeder.starts} (crashes {deaths})  "
          f"up at the end: {up}  SIGTERM exit {code}", flush=True)
    print(f"polls {fig.polls} ({fig.polls / ideal:.2f} of one per source and interval)  "
          f"requests {stats['requests']} (200: {stats['200']}, 304: {stats['304']}, "
          f"other: {stats['other']})", flush=True)
    print(f"items expected {fig.expected_items} (articles x 6 files)  found {fig.found_items} "
          f"({fig.found_items / max(1, fig.expected_items):.3f})  missing {fig.missing}  "
          f"duplicated {fig.duplicates}  files != store {fig.files_not_store}  "
          f"long headlines {fig.long_titles}", flush=True)
    print(f"hostile listings reported failing {fig.failing_reported}/{fig.must_fail}  "
          f"tracebacks in the log {fig.tracebacks}", flush=True)
    problems = list(fig.problems)
    if not up:
        problems.insert(0, "feeder was not running at the end")
    for p in problems[:30]:
        print(f"  PROBLEM {p}", flush=True)
    if len(problems) > 30:
        print(f"  ... {len(problems) - 30} more", flush=True)
    print("soak: " + ("ok" if not problems else f"{len(problems)} problems (see {work})"),
          flush=True)
    if not problems and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())

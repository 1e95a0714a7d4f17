"""The ``feeder`` command line.

Exit status: 0 success, 1 a source or page failed, 2 bad configuration or usage.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from feeder import __version__
from feeder.errors import ConfigError, FeederError
from feeder.serve import DEFAULT_IDLE_TIMEOUT, DEFAULT_THREADS

if TYPE_CHECKING:
    from feeder.config import Config
    from feeder.model import SourceHealth
    from feeder.pipeline import PollResult
    from feeder.store import Store

log = logging.getLogger("feeder")


def _setup_logging(verbosity: int) -> None:
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity == 1 else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # APScheduler logs every job run at INFO; that is noise next to our own poll.done lines.
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))


def _load(args: argparse.Namespace) -> Config:
    from feeder import config

    return config.load(args.config)


def _no_sources(cfg: Config) -> NoReturn:
    if cfg.path is None or not cfg.path.exists():
        raise ConfigError(f"no feeder.toml in {Path.cwd()} and no feeds/*.toml: run this in the "
                          "folder of your feeder.toml, or give --config PATH")
    raise ConfigError("no sources configured (add [[sources]] or feeds/*.toml)",
                      file=str(cfg.path))


def cmd_run(args: argparse.Namespace) -> int:
    cfg = _load(args)  # first: a bad configuration is reported before anything else happens

    from feeder.fetch import Fetcher
    from feeder.pipeline import Poller
    from feeder.schedule import Runner
    from feeder.store import Store

    if not cfg.sources:
        _no_sources(cfg)
    unknown = set(args.source) - {s.id for s in cfg.sources}
    if unknown:
        raise ConfigError(f"no such source: {', '.join(sorted(unknown))}", file=str(cfg.path))
    from feeder.preflight import check_writable

    check_writable(cfg)  # before any poll: an unwritable out would waste every fetch
    import threading

    store = Store(cfg.settings.database)
    stop = threading.Event()
    # Backoff and politeness waits sleep on the stop event, so SIGTERM cuts them short.

    def sleep(seconds: float) -> None:
        stop.wait(seconds)

    with Fetcher(cfg.settings, sleep=sleep, robots_cache=store) as fetcher:
        poller = Poller(cfg, store, fetcher, stop=stop)
        if args.once:
            results = poller.run_once(args.source)
            _print_summary(results)
            return 0 if all(r.status != "error" for r in results) else 1
        if args.metrics_port:
            try:
                poller.metrics.serve(args.metrics_port)
            except OSError as exc:
                raise FeederError(f"cannot serve metrics on 127.0.0.1:{args.metrics_port}: "
                                  f"{exc.strerror or exc}") from None
        runner = Runner(poller, jitter=cfg.settings.jitter)
        print(f"feeder: polling {len(cfg.sources)} source(s); feeds in {cfg.settings.out}; "
              "Ctrl-C stops", file=sys.stderr)
        runner.run_forever()
    store.close()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    cfg = _load(args)
    if not cfg.sources:
        _no_sources(cfg)
    from feeder import worker

    return worker.run(cfg, concurrency=args.concurrency, metrics_port=args.metrics_port,
                      lease_seconds=args.lease)


def _print_summary(results: Sequence[PollResult]) -> None:
    print(f"{'source':20} {'status':13} {'links':>5} {'fetched':>7} {'new':>4} {'upd':>4} "
          f"{'failed':>6}  note")
    for r in results:
        note = r.error or "; ".join(r.warnings) or (r.failed_pages[0] if r.failed_pages else "")
        print(f"{r.source:20} {r.status:13} {r.links:>5} {r.fetched:>7} {r.new:>4} "
              f"{r.updated:>4} {len(r.failed_pages):>6}  {note[:120]}")


def cmd_extract(args: argparse.Namespace) -> int:
    from feeder.discover.target import fetch_page, is_url
    from feeder.extract import extract
    from feeder.extract.batch import run_batch
    from feeder.pagefile import read_page

    if args.batch:
        ok, failed = run_batch(Path(args.batch), sys.stdout, timezone=args.timezone)
        print(f"extract: {ok} records, {failed} errors", file=sys.stderr)
        return 0
    if not args.target:
        raise ConfigError("extract needs FILE_OR_URL or --batch MANIFEST")
    target = args.target
    if is_url(target):
        page = fetch_page(target, kind="article")
        html: str | bytes = page.text
        url = args.url or page.final_url
    else:
        path = Path(target)
        html = read_page(path)
        url = args.url or path.resolve().as_uri()
    # No --timezone: the page's own evidence decides (Vietnamese pages: Asia/Ho_Chi_Minh), as in
    # --batch and as a source's configured zone does for polled pages.
    article = extract(html, url, timezone=args.timezone)
    json.dump(article.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


def cmd_links(args: argparse.Namespace) -> int:
    from feeder.config import Source, _check_selector
    from feeder.discover import links
    from feeder.discover.target import fetch_page, is_url, read_listing

    if args.selector is not None:
        try:
            _check_selector(args.selector)
        except ValueError as exc:
            raise ConfigError(f"--selector: {exc}") from None
    if is_url(args.target):
        page = fetch_page(args.target)
    else:
        page = read_listing(Path(args.target), args.url)
    url = args.url or page.final_url
    source = Source(id="links", name="links", urls=(url,), link_selector=args.selector)
    for link in links(page, source):
        print(json.dumps({"url": link.url, "text": link.text}, ensure_ascii=False))
    return 0


def cmd_probe(args: argparse.Namespace) -> int:
    from feeder import probe
    from feeder.config import _check_url
    from feeder.fetch import Fetcher

    try:
        _check_url(args.url)
    except ValueError as exc:
        raise ConfigError(f"probe URL: {exc}") from None
    cfg = _load(args)
    with Fetcher(cfg.settings) as fetcher:
        return probe.run(args.url, cfg, fetcher, write=args.write, force=args.force)


def cmd_serve(args: argparse.Namespace) -> int:
    from feeder.serve import make_server, serve_until_interrupted

    directory = Path(args.directory) if args.directory else _load(args).settings.out
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FeederError(f"{directory}: cannot create the folder to serve: "
                          f"{exc.strerror or exc}") from None
    try:
        server = make_server(directory, host=args.host, port=args.port,
                             threads=args.threads, idle_timeout=args.timeout)
    except OSError as exc:
        hint = " (another server is using it: stop it or pick another --port)" \
            if exc.errno == errno.EADDRINUSE else ""
        raise FeederError(f"cannot listen on {args.host}:{args.port}: "
                          f"{exc.strerror or exc}{hint}") from None
    print(f"feeder: serving {server.directory} at {server.url} (Ctrl-C stops)", file=sys.stderr,
          flush=True)
    serve_until_interrupted(server)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from feeder import clock
    from feeder.publish.websub import failures as hub_failures
    from feeder.store import Store

    cfg = _load(args)
    if not cfg.sources and (cfg.path is None or not cfg.path.exists()):
        # Most likely run from the wrong folder: an empty table with status 0 would read as
        # "all healthy" to a monitoring check, and opening the store would create a database.
        _no_sources(cfg)
    from feeder.preflight import check_writable

    check_writable(cfg, only=("database",))  # SQLite writes beside the database even to read
    store = Store(cfg.settings.database)
    rows = list(store.healths([s.id for s in cfg.sources]).values())
    failing = sum(h.consecutive_failures > 0 for h in rows)
    hub_problems = hub_failures(store.hub_pings())
    why = _next_poll_reasons(store, cfg, rows)
    reshaped = _reshaped(store, cfg)
    warned = store.last_warnings([s.id for s in cfg.sources])
    cluster = None
    if store.engine.dialect.name == "postgresql":  # workers, leases and the job queue
        from feeder import cluster as cluster_status

        cluster = cluster_status.read(store.engine)
    store.close()
    if args.json:
        json.dump([{**_health_dict(h), "next_poll_reason": why[h.source],
                    "links_changed_shape": h.source in reshaped,
                    "warnings": warned.get(h.source, [])} for h in rows],
                  sys.stdout, indent=2)
        print()
    else:
        def t(d: datetime | None) -> str:
            return d.astimezone().strftime("%Y-%m-%d %H:%M") if d else "-"

        # A listing is probed as itself; a sitemap or feed source from its site's home page.
        urls = {s.id: s.url if s.kind == "listing" else s.home for s in cfg.sources}
        kinds = {s.id: s.kind for s in cfg.sources}
        print(f"{'source':20} {'last success':16} {'next poll':16} {'items':>5} {'lead-only':>9} "
              f"{'fails':>5}  last error")
        for h in rows:
            broken = "selectors broken?" if kinds[h.source] == "listing" else \
                f"the {kinds[h.source]} lists nothing?"
            flag = f" (no article in {h.empty_polls} polls: {broken})" \
                if h.selectors_broken else ""
            if h.source in reshaped:
                flag += " (the latest new links all have a new URL shape: has the site changed?)"
            if flag:
                flag += f"; `feeder probe {urls[h.source]}` suggests a fix"
            print(f"{h.source:20} {t(h.last_success):16} {t(h.next_due):16} {h.item_count:>5} "
                  f"{h.lead_only:>9} "
                  f"{h.consecutive_failures:>5}  {(h.last_error or '')[:80]}{flag}")
            print(f"{'':20} next poll: {why[h.source]}")
            for warning in warned.get(h.source, []):
                print(f"{'':20} warning: {warning}")
        for p in hub_problems:
            when = f"retry {t(p.due_at)}" if p.state == "pending" else "gave up"
            print(f"hub {p.hub} {p.topic}: {p.attempts} failed attempt(s), {when}: "
                  f"{(p.last_error or '')[:120]}")
        if cluster is not None:
            from feeder.cluster import render

            print("\n".join(render(cluster)))
        print(f"as of {clock.now().astimezone().strftime('%Y-%m-%d %H:%M')}")
    gave_up = any(p.state == "failed" for p in hub_problems)
    return 1 if failing or gave_up or reshaped or any(h.selectors_broken for h in rows) else 0


def _reshaped(store: Store, cfg: Config) -> set[str]:
    """Sources whose latest new article URLs all have shapes their earlier ones never had."""
    from feeder.policy import shape_changed

    return {s.id for s in cfg.sources if shape_changed(*reversed(
        store.latest_article_urls(s.id)))}


def _next_poll_reasons(store: Store, cfg: Config, rows: Sequence[SourceHealth]) -> dict[str, str]:
    """Why each source's next poll is when it is: the schedule's decision, made again from the
    store as of the source's last poll (it is pure, so it comes out the same)."""
    from feeder.schedule import plan_from_store

    by_id = {s.id: s for s in cfg.sources}
    out = {}
    for h in rows:
        if h.last_poll is None:
            out[h.source] = "not polled yet: at the next tick"
        else:
            out[h.source] = plan_from_store(store, by_id[h.source], h.consecutive_failures,
                                            h.last_poll).reason
    return out


def _health_dict(h: SourceHealth) -> dict[str, object]:
    from dataclasses import asdict

    data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(h).items()}
    return {**data, "ok": h.ok, "selectors_broken": h.selectors_broken}


def _add_global_options(parser: argparse.ArgumentParser, where: str) -> None:
    """--config, -v and -q, accepted before the subcommand and after it.

    Each position has its own destinations (``verbose_pre`` / ``verbose_post``): argparse parses
    a subcommand into a fresh namespace and copies it over the main one, so a shared destination
    would let ``feeder -v run`` lose its ``-v``. :func:`main` merges them.
    """
    parser.add_argument("--config", "-c", metavar="PATH", dest=f"config_{where}",
                        help="configuration file (default: ./feeder.toml)")
    parser.add_argument("-v", "--verbose", action="count", default=0, dest=f"verbose_{where}",
                        help="more log output (-vv for debug)")
    parser.add_argument("-q", "--quiet", action="store_true", dest=f"quiet_{where}",
                        help="only warnings and errors")


class _SubcommandParser(argparse.ArgumentParser):
    """A subcommand's parser: it takes the global options too (``feeder status --config X``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_global_options(self, "post")


def _merge_global_options(args: argparse.Namespace) -> None:
    """One ``config`` and one ``verbose`` from the options given before and after the command."""
    args.config = getattr(args, "config_post", None) or args.config_pre
    quiet = args.quiet_pre or getattr(args, "quiet_post", False)
    args.verbose = 0 if quiet else 1 + args.verbose_pre + getattr(args, "verbose_post", 0)


def _count(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in ``[low, high]``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feeder", description="Publish RSS, Atom and JSON Feed files for news sites.")
    parser.add_argument("--version", action="version", version=f"feeder {__version__}")
    _add_global_options(parser, "pre")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_SubcommandParser)

    run = sub.add_parser("run", help="poll the sources and publish feeds",
                         description="Poll every source on its schedule and publish its feeds, "
                                     "until SIGINT/SIGTERM; --once polls each source once.")
    run.add_argument("--once", action="store_true",
                     help="poll every source once, publish, print a summary and exit")
    run.add_argument("--source", action="append", default=[], metavar="ID",
                     help="only this source (repeatable; with --once)")
    run.add_argument("--metrics-port", type=int, metavar="PORT",
                     help="serve Prometheus metrics at http://127.0.0.1:PORT/metrics")
    run.set_defaults(func=cmd_run)

    wk = sub.add_parser("worker", help="run one worker of many (PostgreSQL job queue)",
                        description="Run jobs from the PostgreSQL queue (procrastinate) until "
                                    "SIGINT/SIGTERM, which drains: running polls finish, no new "
                                    "one starts. Start any number, on any machines sharing the "
                                    "database and the output.")
    wk.add_argument("--concurrency", type=int, default=8, metavar="N",
                    help="jobs run at once by this worker (default 8)")
    wk.add_argument("--metrics-port", type=int, metavar="PORT",
                    help="serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics")
    wk.add_argument("--lease", type=float, default=60.0, metavar="SECONDS",
                    help="a source polled by a worker that died is handed out again after "
                         "this long (default 60)")
    wk.set_defaults(func=cmd_worker)

    ex = sub.add_parser("extract", help="print the canonical record of an article page",
                        description="Extract one article (a file, .html.gz too, or a URL) and "
                                    "print its record as JSON; --batch reads a manifest.")
    ex.add_argument("target", nargs="?", metavar="FILE_OR_URL")
    ex.add_argument("--url", help="the page's URL, for a file (resolves relative links)")
    ex.add_argument("--timezone", help="IANA zone for times without offset (default: the "
                                        "page's own offsets; Asia/Ho_Chi_Minh for Vietnamese "
                                        "pages; else UTC)")
    ex.add_argument("--batch", metavar="MANIFEST.jsonl",
                    help='lines {"id", "path", "url"}; prints {"id", "record"|"error"} lines')
    ex.set_defaults(func=cmd_extract)

    ln = sub.add_parser("links", help="print the article links a source would follow",
                        description="Print the article links found on a listing page (a file, "
                                    ".html.gz too, or a URL), one JSON line each, as a poll "
                                    "would follow them.")
    ln.add_argument("target", metavar="FILE_OR_URL")
    ln.add_argument("--url", help="the page's URL, for a file (default: its canonical URL)")
    ln.add_argument("--selector", metavar="CSS", help="a source's link_selector to try")
    ln.set_defaults(func=cmd_links)

    pr = sub.add_parser("probe", help="look at a site and propose a source for it",
                        description="Fetch URL politely, find its feeds, sitemaps and article "
                                    "links, propose a source (kind, URLs, timezone, language, "
                                    "interval), preview its first five items as subscribers "
                                    "get them and warn about what looks wrong.")
    pr.add_argument("url", metavar="URL")
    pr.add_argument("--write", action="store_true", help="save the proposal as feeds/ID.toml")
    pr.add_argument("--force", action="store_true", help="with --write: replace an existing file")
    pr.set_defaults(func=cmd_probe)

    sv = sub.add_parser("serve", help="serve the output folder on 127.0.0.1 for a preview",
                        description="Serve the output folder with feed Content-Types, ETag and "
                                    "Last-Modified, for a preview without nginx.")
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default: %(default)s)")
    sv.add_argument("--port", type=int, default=8080,
                    help="port to listen on; 0 picks a free one (default: %(default)s)")
    sv.add_argument("--directory", "-d", help="folder to serve (default: the configured out)")
    sv.add_argument("--threads", type=_count(1, 1024), default=DEFAULT_THREADS,
                    help="requests answered at once; more wait their turn (default: %(default)s)")
    sv.add_argument("--timeout", type=_count(1, 3600), default=DEFAULT_IDLE_TIMEOUT,
                    metavar="SECONDS",
                    help="close a connection idle or half-sent this long (default: %(default)s)")
    sv.set_defaults(func=cmd_serve)

    st = sub.add_parser("status", help="show each source's health",
                        description="Print each source's last success, next poll, items and "
                                    "failures; exit 1 when a source is failing.")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _merge_global_options(args)
    _setup_logging(args.verbose)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so that a closed pipe is seen below and not at exit
        return status
    except BrokenPipeError:
        # The reader went away (`feeder extract page.html | head`): stop quietly, like other
        # command-line tools, and keep Python from complaining again when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except ConfigError as exc:
        print(f"feeder: configuration error: {exc}", file=sys.stderr)
        return 2
    except FeederError as exc:
        print(f"feeder: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # The machine rather than feeder (a full disk, a vanished folder): say what and where.
        print(f"feeder: error: {exc.strerror or exc}"
              + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

"""Prometheus metrics: per-source counters and fetch latencies.

Exposed two ways: ``feeder run --metrics-port 9464`` serves ``/metrics`` on 127.0.0.1, and the
``metrics_file`` setting writes the text format after every poll, for node_exporter's textfile
collector (written atomically by prometheus_client).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, write_to_textfile

if TYPE_CHECKING:
    from feeder.model import SourceHealth
    from feeder.pipeline import PollResult

# Listing and article pages on news sites: mostly 50 ms - 2 s; the tail is what matters.
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """One registry per process (or per test), never the global default one."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.polls = Counter("feeder_polls", "Polls of a source, by outcome.",
                             ["source", "status"], registry=r)
        self.articles = Counter("feeder_articles", "Articles stored, by action (new, updated).",
                                ["source", "action"], registry=r)
        self.page_failures = Counter("feeder_page_failures",
                                     "Article pages that could not be fetched or extracted.",
                                     ["source"], registry=r)
        self.fetch_seconds = Histogram("feeder_fetch_seconds",
                                       "Time to fetch one page, by source and kind.",
                                       ["source", "kind"], buckets=_BUCKETS, registry=r)
        self.failures = Gauge("feeder_source_consecutive_failures",
                              "Failed polls in a row (0 when healthy).", ["source"], registry=r)
        self.last_success = Gauge("feeder_source_last_success_timestamp_seconds",
                                  "Unix time of the last successful poll.", ["source"],
                                  registry=r)
        self.items = Gauge("feeder_source_items", "Articles stored for the source.",
                           ["source"], registry=r)

    def fetched(self, source: str, kind: str, seconds: float) -> None:
        self.fetch_seconds.labels(source, kind).observe(seconds)

    def polled(self, result: PollResult, health: SourceHealth) -> None:
        s = result.source
        self.polls.labels(s, result.status).inc()
        if result.new:
            self.articles.labels(s, "new").inc(result.new)
        if result.updated:
            self.articles.labels(s, "updated").inc(result.updated)
        if result.failed_pages:
            self.page_failures.labels(s).inc(len(result.failed_pages))
        self.failures.labels(s).set(health.consecutive_failures)
        if health.last_success:
            self.last_success.labels(s).set(health.last_success.timestamp())
        self.items.labels(s).set(health.item_count)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), self.registry)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        from prometheus_client import start_http_server

        start_http_server(port, addr=host, registry=self.registry)

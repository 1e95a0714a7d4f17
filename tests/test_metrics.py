"""Prometheus text format after a real poll: per-source counters and fetch latencies."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support.http import LoopbackServer
from tests.test_pipeline import article_page, listing, make_config, poll_all, source


def test_metrics_textfile_after_a_poll(tmp_path: Path) -> None:
    with LoopbackServer() as site:
        site.route("/thoi-su/", listing("/thoi-su/a-1.html", "/thoi-su/b-2.html"))
        site.route("/thoi-su/a-1.html", article_page(site, "a-1", "Bài một"))
        site.route("/thoi-su/b-2.html", "lỗi", status=404)
        cfg = make_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", source(site))
        metrics_file = tmp_path / "metrics" / "feeder.prom"
        cfg = replace(cfg, settings=replace(cfg.settings, metrics_file=metrics_file))
        poll_all(cfg)

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(metrics_file.read_text())
               for s in family.samples}
    assert samples[("feeder_polls_total", (("source", "thu"), ("status", "ok")))] == 1
    assert samples[("feeder_articles_total", (("action", "new"), ("source", "thu")))] == 1
    assert samples[("feeder_page_failures_total", (("source", "thu"),))] == 1
    assert samples[("feeder_source_items", (("source", "thu"),))] == 1
    assert samples[("feeder_source_consecutive_failures", (("source", "thu"),))] == 0
    assert samples[("feeder_fetch_seconds_count", (("kind", "listing"), ("source", "thu")))] == 1
    assert samples[("feeder_fetch_seconds_count", (("kind", "article"), ("source", "thu")))] == 2

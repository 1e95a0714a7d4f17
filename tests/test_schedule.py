"""Scheduling: backoff is pure, state lives in the store, `feeder run` stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeder.schedule import MAX_BACKOFF, is_due, next_poll_at
from feeder.store import Store
from tests.support.http import LoopbackServer

T0 = datetime(2024, 6, 2, 12, 0, tzinfo=UTC)


def test_backoff_doubles_and_is_capped() -> None:
    every = timedelta(minutes=15)
    assert next_poll_at(every, 0, T0) == T0 + every
    assert next_poll_at(every, 1, T0) == T0 + 2 * every
    assert next_poll_at(every, 3, T0) == T0 + 8 * every
    assert next_poll_at(every, 50, T0) == T0 + MAX_BACKOFF
    # A source polled daily is never polled more often because it fails.
    assert next_poll_at(timedelta(days=1), 5, T0) == T0 + timedelta(days=1)


def test_due() -> None:
    assert is_due(None, T0)
    assert is_due(T0, T0)
    assert not is_due(T0 + timedelta(seconds=1), T0)


PAGE = ("<html><head><meta charset='utf-8'><title>{t}</title></head><body><article>"
        "<h1>{t}</h1><time datetime='2024-06-02T19:05:00+07:00'>19:05</time>"
        "<p>Ngày 2/6, một đoạn văn đủ dài để làm nội dung chính của bài báo thử nghiệm.</p>"
        "<p>Đoạn hai của bài báo, cũng đủ dài để được giữ lại làm nội dung chính.</p>"
        "</article></body></html>")


def _config(tmp_path: Path, site: LoopbackServer, interval: str) -> Path:
    cfg = tmp_path / "feeder.toml"
    cfg.write_text(f"""
[feeder]
out = "public"
database = "var/feeder.db"
host_delay = 0.0
respect_robots = false

[[sources]]
id = "thu"
name = "Thử"
url = "{site.url('/list/')}"
interval = "{interval}"
""", encoding="utf-8")
    return cfg


def _site(site: LoopbackServer) -> None:
    links = "".join(f'<li><a href="/tin/bai-so-{i}-100{i}.html">Bài số {i} về một sự kiện</a>'
                    f"</li>" for i in range(3))
    site.route("/list/", f"<html><body><main><ul>{links}</ul></main></body></html>")
    for i in range(3):
        site.route(f"/tin/bai-so-{i}-100{i}.html", PAGE.format(t=f"Bài số {i} về một sự kiện"))


def test_run_polls_then_stops_on_sigterm_and_restart_resumes(tmp_path: Path) -> None:
    with LoopbackServer() as site:
        _site(site)
        cfg = _config(tmp_path, site, "1h")
        proc = subprocess.Popen([sys.executable, "-m", "feeder", "--config", str(cfg), "run"],
                                stderr=subprocess.PIPE, text=True)
        rss = tmp_path / "public" / "thu" / "rss.xml"
        deadline = time.monotonic() + 30
        while not rss.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert rss.exists(), "the scheduler published the source's feed"
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        assert time.monotonic() - sent < 10, "SIGTERM stops the run within 10 s"
        assert proc.returncode == 0, err
        assert "run.stopped" in err

        # The schedule lives in the store: a restart within the hour does not poll again.
        store = Store(f"sqlite:///{tmp_path / 'var' / 'feeder.db'}")
        due = store.next_due("thu")
        store.close()
        assert due is not None and due > datetime.now(UTC) + timedelta(minutes=50)
        polled = len(site.requests_to("/list/"))
        proc = subprocess.Popen([sys.executable, "-m", "feeder", "--config", str(cfg), "run"],
                                stderr=subprocess.PIPE, text=True)
        time.sleep(4)  # the first poll would have happened within ~2 s if it were due
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert len(site.requests_to("/list/")) == polled


def test_status_command_reports_failing_source(tmp_path: Path) -> None:
    with LoopbackServer() as site:
        _site(site)
        cfg = _config(tmp_path, site, "15m")
        ok = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg), "run",
                             "--once"], capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0, ok.stderr
        status = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg), "status"],
                                capture_output=True, text=True, timeout=60)
        assert status.returncode == 0 and "thu" in status.stdout
        assert " 3 " in status.stdout  # items

        site.route("/list/", "down", status=404)
        bad = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg), "run",
                              "--once"], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1
        assert "thu" in bad.stdout and "404" in bad.stdout
        status = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg), "status",
                                 "--json"], capture_output=True, text=True, timeout=60)
        assert status.returncode == 1
        assert '"consecutive_failures": 1' in status.stdout

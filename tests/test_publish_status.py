"""status.json: rewritten when a source's state changes, else only as a 10-minute heartbeat."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeder import clock
from feeder.model import SourceHealth
from feeder.publish import STATUS_HEARTBEAT, publish_site
from tests.test_publish_fixtures import sample_feeds, settings_for

T0 = datetime(2024, 6, 2, 12, 0, tzinfo=UTC)


def with_poll_times(feeds: list, at: datetime, failures: int = 0) -> list:
    return [replace(f, health=SourceHealth(
        source=f.source.id, last_poll=at, last_success=at if not failures else None,
        next_due=at + timedelta(minutes=15), consecutive_failures=failures,
        last_error="HTTP 503" if failures else None, item_count=len(f.articles)))
        for f in feeds]


def test_status_heartbeat(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    status = tmp_path / "status.json"
    clock.freeze(T0)
    publish_site(settings, with_poll_times(sample_feeds(), T0))
    first = status.read_bytes()
    os.utime(status, (T0.timestamp(), T0.timestamp()))

    # An idle poll a minute later: only poll times differ, the file stays.
    clock.freeze(T0 + timedelta(minutes=1))
    changed = publish_site(settings, with_poll_times(sample_feeds(), T0 + timedelta(minutes=1)))
    assert changed == [] and status.read_bytes() == first

    # A source starts failing: written at once.
    failing = with_poll_times(sample_feeds(), T0 + timedelta(minutes=2), failures=1)
    publish_site(settings, failing)
    doc = json.loads(status.read_bytes())
    assert not doc["ok"] and doc["sources"][0]["consecutive_failures"] == 1

    # Past the heartbeat, fresh poll times are written even when nothing else changed.
    os.utime(status, (T0.timestamp(), T0.timestamp()))
    later = T0 + STATUS_HEARTBEAT + timedelta(minutes=1)
    clock.freeze(later)
    failing_later = with_poll_times(sample_feeds(), later, failures=1)
    assert status in publish_site(settings, failing_later)
    assert json.loads(status.read_bytes())["sources"][0]["last_poll"].startswith("2024-06-02T12:11")

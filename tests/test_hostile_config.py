"""Configuration mistakes, each run through the real ``feeder run --once``: exit status 2, a message
naming the file and the key, no traceback, and not one request made to the source.

Each row once crashed, was accepted and crashed later, or was found only after every source had
been polled (issue 9).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _reset_postgres
from tests.support.cli import run_feeder
from tests.support.http import LoopbackServer

# (case id, a [feeder] line, a source line, the key the message names, words in the message)
CASES: list[tuple[str, str, str, str, str]] = [
    ("interval-huge", "", 'interval = "99999999999999d"', "interval", "at most 30 days"),
    ("interval-inf", "", "interval = inf", "interval", "at most 30 days"),
    # Passed validation once, then overflowed the scheduler's datetime arithmetic.
    ("interval-overflows-later", "", 'interval = "99999999d"', "interval", "at most 30 days"),
    ("interval-float-nan", "", "interval = nan", "interval", "at most 30 days"),
    ("jitter-huge", "jitter = 1e308", "", "jitter", "at most 1"),
    ("jitter-nan", "jitter = nan", "", "jitter", "got nan"),
    ("read-timeout-nan", "read_timeout = nan", "", "read_timeout", "got nan"),
    ("read-timeout-inf", "read_timeout = inf", "", "read_timeout", "got inf"),
    ("connect-timeout-nan", "connect_timeout = nan", "", "connect_timeout", "got nan"),
    ("connect-timeout-inf", "connect_timeout = inf", "", "connect_timeout", "got inf"),
    ("host-delay-nan", "host_delay = nan", "", "host_delay", "got nan"),
    ("host-delay-inf", "host_delay = inf", "", "host_delay", "got inf"),
    ("host-delay-huge", "host_delay = 1e9", "", "host_delay", "at most 3600"),
    ("max-bytes-huge", "max_bytes = 9223372036854775807", "", "max_bytes", "at most"),
    ("workers-huge", "workers = 100000", "", "workers", "at most 256"),
    ("database-unknown-driver", 'database = "mongodb://127.0.0.1/feeds"', "", "database",
     "unknown database driver 'mongodb'"),
    ("database-driver-not-installed", 'database = "mysql://127.0.0.1/feeds"', "", "database",
     "not installed"),
    ("database-empty", 'database = ""', "", "database", "must not be empty"),
    # A file where a folder must be: mkdir fails, as it does for a missing folder feeder may not
    # create (root can create anywhere, so the test cannot use permissions).
    ("database-folder-is-a-file", 'database = "blocker/feeder.db"', "", "database",
     "is a file, not a folder"),
    ("database-folder-cannot-be-created", 'database = "/proc/no-such-folder/feeder.db"', "",
     "database", "cannot write in /proc/no-such-folder"),
    ("database-url-with-driver-in-unwritable-folder",
     'database = "sqlite+pysqlite:////proc/no-such-folder/feeder.db"', "", "database",
     "cannot write in /proc/no-such-folder"),
    ("metrics-file-folder-is-a-file", 'metrics_file = "blocker/feeder.prom"', "",
     "metrics_file", "is a file, not a folder"),
    ("metrics-file-is-a-folder", 'metrics_file = "var"', "", "metrics_file", "is a folder"),
    ("out-empty", 'out = ""', "", "out", "must not be empty"),
    ("out-unwritable", 'out = "blocker/public"', "", "out", "is a file, not a folder"),
    ("out-cannot-be-created", 'out = "/proc/no-such-folder/public"', "", "out",
     "cannot write in /proc/no-such-folder/public"),
]


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        server.route("/", "<html><body><a href='/a/1.html'>Tin</a></body></html>")
        server.route("/robots.txt", "", headers={"Content-Type": "text/plain"})
        yield server


@pytest.mark.parametrize(("settings", "source_lines", "key", "words"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_setting_exits_2_before_polling(tmp_path: Path, site: LoopbackServer, settings: str,
                                            source_lines: str, key: str, words: str) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be\n", encoding="utf-8")
    (tmp_path / "var").mkdir()
    cfg = tmp_path / "feeder.toml"
    cfg.write_text(f'[feeder]\n{settings}\n\n[[sources]]\nid = "a"\nurl = "{site.url("/")}"\n'
                   f'{source_lines}\n', encoding="utf-8")
    proc = run_feeder(["--config", str(cfg), "run", "--once"], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert str(cfg) in proc.stderr and f"'{key}'" in proc.stderr, proc.stderr
    assert words in proc.stderr, proc.stderr
    assert site.requests == [], "a configuration error must stop feeder before the first fetch"


def test_invalid_utf8_file(tmp_path: Path) -> None:
    cfg = tmp_path / "feeder.toml"
    cfg.write_bytes(b'[feeder]\nuser_agent = "Ba\xf5 Vi\xea\xf2t"\n')
    proc = run_feeder(["--config", str(cfg), "status"], cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{cfg}: not UTF-8 text: byte 0xf5" in proc.stderr, proc.stderr


def test_invalid_utf8_in_a_source_file(tmp_path: Path) -> None:
    (tmp_path / "feeder.toml").write_text("[feeder]\n", encoding="utf-8")
    bad = tmp_path / "feeds" / "bao.toml"
    bad.parent.mkdir()
    bad.write_bytes(b'id = "bao"\nname = "B\xe1o"\nurl = "http://127.0.0.1:9/"\n')
    proc = run_feeder(["run", "--once"], cwd=tmp_path)
    assert proc.returncode == 2
    assert f"{bad}: not UTF-8 text" in proc.stderr, proc.stderr


def test_postgres_spelling_is_accepted(tmp_path: Path) -> None:
    """``postgres://`` (Heroku, libpq) and bare ``postgresql://`` mean psycopg 3."""
    url = os.environ.get("FEEDER_TEST_POSTGRES")
    if not url:
        pytest.skip("PostgreSQL not available: set FEEDER_TEST_POSTGRES")
    rest = url.split("://", 1)[1]
    _reset_postgres(url)  # a fresh database: no source has a failure recorded
    for scheme in ("postgres", "postgresql"):
        cfg = tmp_path / f"{scheme}.toml"
        cfg.write_text(f'[feeder]\ndatabase = "{scheme}://{rest}"\n\n[[sources]]\nid = "a"\n'
                       'url = "http://127.0.0.1:9/"\n', encoding="utf-8")
        proc = run_feeder(["status", "--config", str(cfg)], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[1].startswith("a "), proc.stdout
    _reset_postgres(url)

"""Shared fixtures: real databases (SQLite file; PostgreSQL when FEEDER_TEST_POSTGRES is set);
no HTTP connection from the test process leaves 127.0.0.1.

Skip policy: a test skips with a visible reason when a system part (nginx, newsboat, PostgreSQL,
chromium) is missing on a developer's machine. Under CI (``CI=true``, as .ci/run and CI services
set it) or with ``FEEDER_REQUIRE_SYSTEM=1`` that skip is a failure: CI installs those parts, so
a skip there means the install broke and the test silently stopped testing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feeder import clock
from tests.support.http import loopback_only

POSTGRES_URL = os.environ.get("FEEDER_TEST_POSTGRES")

#: Skip reasons that name a system part CI provides (the words the skips use).
# What .ci/run installs or starts: a test skipped for want of one of these fails under CI.
SYSTEM_PARTS = re.compile(r"\b(nginx|newsboat|PostgreSQL|chromium|playwright|boto3|moto|S3)\b",
                          re.IGNORECASE)


def system_parts_required() -> bool:
    return (os.environ.get("CI", "").lower() in ("true", "1")
            or os.environ.get("FEEDER_REQUIRE_SYSTEM") == "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """Under CI, turn a skip for a missing system part into a failure (see the module doc)."""
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and system_parts_required() and isinstance(report.longrepr, tuple)):
        return
    reason = str(report.longrepr[2])
    if SYSTEM_PARTS.search(reason):
        report.outcome = "failed"
        report.longrepr = (f"{reason}\n[CI] a missing nginx, newsboat, PostgreSQL, chromium, "
                           "playwright, boto3 or S3 server fails under CI=true / "
                           "FEEDER_REQUIRE_SYSTEM=1: .ci/run installs and starts them")


def _reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    from feeder.store import metadata

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database: an SQLite file, then PostgreSQL (skipped with a reason if absent)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feeder.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not available: set FEEDER_TEST_POSTGRES to a "
                    "postgresql+psycopg:// URL (.ci/run starts one)")
    _reset_postgres(POSTGRES_URL)
    yield POSTGRES_URL
    _reset_postgres(POSTGRES_URL)


@pytest.fixture(autouse=True)
def _unfrozen_clock() -> Iterator[None]:
    yield
    clock.freeze(None)


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    with loopback_only():
        yield

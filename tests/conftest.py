"""Shared fixtures: real databases (SQLite file; PostgreSQL when FEEDER_TEST_POSTGRES is set);
no HTTP connection from the test process leaves 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from feeder import clock
from tests.support.http import loopback_only

POSTGRES_URL = os.environ.get("FEEDER_TEST_POSTGRES")


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

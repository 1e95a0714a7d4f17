"""CI's skip policy (tests/conftest.py), run through a real pytest: a test that skips because
PostgreSQL is missing passes as a skip on a developer's machine and fails under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pytest_without_postgres(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("CI", "FEEDER_REQUIRE_SYSTEM", "FEEDER_TEST_POSTGRES")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_store.py::test_newest_first_and_limited"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**clean, **env})


def test_missing_postgres_is_a_skip_for_a_developer() -> None:
    proc = _pytest_without_postgres()
    assert proc.returncode == 0, proc.stdout
    assert "1 passed, 1 skipped" in proc.stdout, proc.stdout


def test_missing_postgres_fails_under_ci() -> None:
    for env in ({"CI": "true"}, {"FEEDER_REQUIRE_SYSTEM": "1"}):
        proc = _pytest_without_postgres(**env)
        assert proc.returncode == 1, proc.stdout
        assert "1 passed, 1 error" in proc.stdout, proc.stdout
        assert "PostgreSQL not available" in proc.stdout and "[CI]" in proc.stdout

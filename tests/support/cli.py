"""Run the real ``feeder`` command in a subprocess, as a user would, and check it did not crash."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_feeder(args: Sequence[str], *, cwd: Path, timeout: float = 60,
               stdin: bytes | None = None,
               env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m feeder ARGS`` in ``cwd``; fails the test if a traceback reached the user."""
    proc = subprocess.run(
        [sys.executable, "-m", "feeder", *args], cwd=cwd, capture_output=True, timeout=timeout,
        input=stdin, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    result = subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"))
    assert "Traceback" not in result.stderr, result.stderr
    return result

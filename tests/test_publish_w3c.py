"""The W3C Feed Validation Service, offline, over a freshly published sample site.

Opt-in: set ``FEEDVALIDATOR`` to a checkout of https://github.com/w3c/feedvalidator and
``FEEDVALIDATOR_PYTHON`` to a Python with lxml, html5lib and rdflib (its requirements; default:
this interpreter). Skipped otherwise: the validator is not a dependency of feeder and its code
is never part of this repository. See deploy/README.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_publish_fixtures import BASE_URL, publish_all

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "validate_feeds.py"
CHECKOUT = os.environ.get("FEEDVALIDATOR")


@pytest.mark.skipif(not CHECKOUT, reason="set FEEDVALIDATOR to a w3c/feedvalidator checkout")
def test_w3c_reports_no_error_and_no_warning(tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish_all(out)
    python = os.environ.get("FEEDVALIDATOR_PYTHON", sys.executable)
    run = subprocess.run([python, str(SCRIPT), str(CHECKOUT), str(out), BASE_URL],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "6 feed(s), 0 with messages" in run.stdout


@pytest.mark.skipif(not CHECKOUT, reason="set FEEDVALIDATOR to a w3c/feedvalidator checkout")
def test_w3c_reports_nothing_on_archives_and_hub_declarations(tmp_path: Path) -> None:
    """RFC 5005 archives (tests/test_archive.py's six months) and feeds that name WebSub hubs."""
    from tests.test_archive import MONTHS, publish_history

    out = tmp_path / "public"
    publish_history(out, f"sqlite:///{tmp_path / 'feeder.db'}", BASE_URL,
                    hubs=("https://hub.example.org/", "https://websub.example.net/hub"))
    python = os.environ.get("FEEDVALIDATOR_PYTHON", sys.executable)
    run = subprocess.run([python, str(SCRIPT), str(CHECKOUT), str(out), BASE_URL],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    # The source's RSS and Atom feeds, the combined two, and each month's Atom and RSS archive.
    assert f"{4 + 2 * len(MONTHS)} feed(s), 0 with messages" in run.stdout

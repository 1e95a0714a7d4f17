"""What a user can get wrong on the command line: each case runs the real ``feeder`` command and
checks the exit status (2 configuration, 1 run time), the message, and that no traceback shows."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run_feeder

ONE_SOURCE = """\
[feeder]
out = "public"
database = "var/feeder.db"

[[sources]]
id = "a"
url = "http://127.0.0.1:9/"
"""


def test_global_options_are_accepted_after_the_subcommand(tmp_path: Path) -> None:
    cfg = tmp_path / "site.toml"
    cfg.write_text(ONE_SOURCE, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for args in (["status", "--config", str(cfg), "-v"], ["-c", str(cfg), "status", "-q"]):
        proc = run_feeder(args, cwd=elsewhere)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[1].startswith("a "), proc.stdout

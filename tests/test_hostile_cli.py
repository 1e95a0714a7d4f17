"""What a user can get wrong on the command line: each case runs the real ``feeder`` command and
checks the exit status (2 configuration, 1 run time), the message, and that no traceback shows."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import ROOT, run_feeder

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


GOLDEN_PAGE = Path(__file__).parent / "golden" / "extract" / "vn-credit-line.html"


def _fake_gz(folder: Path) -> str:
    (folder / "page.html.gz").write_bytes(b"<html>not compressed at all</html>")
    return str(folder / "page.html.gz")


def _truncated_gz(folder: Path) -> str:
    (folder / "cut.html.gz").write_bytes(gzip.compress(GOLDEN_PAGE.read_bytes())[:200])
    return str(folder / "cut.html.gz")


def _gzip_bomb(folder: Path) -> str:
    (folder / "bomb.html.gz").write_bytes(gzip.compress(b"<p>" + b"a" * 20_000_000))
    return str(folder / "bomb.html.gz")


# (case id, makes the FILE argument in a folder, exit status, words in the message)
EXTRACT_CASES: list[tuple[str, Callable[[Path], str], int, str]] = [
    ("fake-gz", _fake_gz, 1, "page.html.gz: not a valid gzip file"),
    ("truncated-gz", _truncated_gz, 1, "cut.html.gz: not a valid gzip file"),
    # Read for ever (and into memory) before: the cap applies while reading.
    ("dev-zero", lambda _folder: "/dev/zero", 1, "/dev/zero: more than 5,000,000 bytes"),
    ("gzip-bomb", _gzip_bomb, 1, "bomb.html.gz: more than 5,000,000 bytes"),
]


@pytest.mark.parametrize(("make_target", "status", "words"), [c[1:] for c in EXTRACT_CASES],
                         ids=[c[0] for c in EXTRACT_CASES])
def test_extract_bad_file(tmp_path: Path, make_target: Callable[[Path], str], status: int,
                          words: str) -> None:
    proc = run_feeder(["extract", make_target(tmp_path)], cwd=tmp_path, timeout=30)
    assert proc.returncode == status, proc.stderr
    assert words in proc.stderr, proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(("make_target", "words"), [
    (lambda _folder: "/dev/zero", "/dev/zero: more than 5,000,000 bytes"),
    (_gzip_bomb, "bomb.html.gz: more than 5,000,000 bytes"),
], ids=["dev-zero", "gzip-bomb"])
def test_links_reads_a_file_with_the_same_cap(tmp_path: Path, make_target: Callable[[Path], str],
                                              words: str) -> None:
    proc = run_feeder(["links", make_target(tmp_path), "--url", "http://bao.example/"],
                      cwd=tmp_path, timeout=30)
    assert proc.returncode == 1, proc.stderr
    assert words in proc.stderr, proc.stderr


def test_extract_into_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    """``feeder extract page.html | head``: the reader leaves early; no traceback, status 141
    (128 + SIGPIPE) as a shell reports for other tools killed by the closed pipe."""
    paragraphs = "".join(f"<p>Đoạn {n}: bà con nông dân phấn khởi vì lúa trúng mùa, giá cao.</p>"
                         for n in range(6000))
    page = tmp_path / "long.html"
    page.write_text(f"<html lang='vi'><head><title>Bài dài</title></head><body><article>"
                    f"<h1>Bài dài</h1>{paragraphs}</article></body></html>", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "feeder", "extract", str(page)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100).startswith(b"{")  # like `head -c 100`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(30) == 141, err
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_batch_line_that_is_not_an_object_gets_an_error_line(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_bytes(b"\n".join([
        b"[1, 2]",
        b'"just a string"',
        b"null",
        b'{"id": "no-path"}',
        b'{"id": "bad-utf8", "path": "\xff.html"}',
        json.dumps({"id": "good", "path": str(GOLDEN_PAGE),
                    "url": "https://a.example/1.html"}).encode(),
    ]) + b"\n")
    proc = run_feeder(["extract", "--batch", str(manifest)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["line-1", "line-2", "line-3", "no-path", "line-5", "good"]
    assert "must be a JSON object, got list" in rows[0]["error"]
    assert "needs \"path\"" in rows[3]["error"]
    assert "error" in rows[4]
    assert rows[5]["record"]["authors"] == ["Trí Nhân"]
    assert "extract: 1 records, 5 errors" in proc.stderr


def test_status_without_a_configuration_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    """A monitoring check run from the wrong folder must not report "healthy"."""
    proc = run_feeder(["status"], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert f"no feeder.toml in {tmp_path}" in proc.stderr and "--config" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_serve_on_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_feeder(["serve", "--port", str(port), "--directory", str(tmp_path)],
                          cwd=tmp_path, timeout=30)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in proc.stderr


def test_run_with_the_metrics_port_in_use(tmp_path: Path) -> None:
    (tmp_path / "feeder.toml").write_text(ONE_SOURCE, encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_feeder(["run", "--metrics-port", str(port)], cwd=tmp_path, timeout=30)
    assert proc.returncode == 1
    assert f"cannot serve metrics on 127.0.0.1:{port}: Address already in use" in proc.stderr

"""deploy/ as a newcomer meets it: nginx accepts the server block without a warning, the Docker
build context leaves out local state, and compose's sources are reachable from a container."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.test_nginx import find_nginx, free_port, write_nginx_conf

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def test_nginx_accepts_the_server_block_without_warnings(tmp_path: Path) -> None:
    binary = find_nginx()
    if binary is None:
        pytest.skip("nginx is not installed (apt-get install nginx); deploy config not tested")
    out = tmp_path / "public"
    out.mkdir()
    conf = write_nginx_conf(tmp_path / "run", out, free_port())
    test = subprocess.run([binary, "-t", "-p", str(tmp_path / "run"), "-c", str(conf)],
                          capture_output=True, text=True, check=False)
    assert test.returncode == 0, test.stderr
    assert "[warn]" not in test.stderr and "[emerg]" not in test.stderr, test.stderr


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out: a pattern matches the path
    or one of its parent folders; ``**/`` matches any depth (no ``!`` lines are used)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern) or (
                    pattern.startswith("**/")
                    and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], pattern[3:])):
                return True
    return False


def test_build_context_leaves_out_local_state_but_not_what_the_image_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns)  # _dockerignored does not model them
    for local in (".venv/lib/python3.11/site-packages/x.py", ".git/HEAD", "var/feeder.db",
                  "public/index.html", "feeder/__pycache__/cli.cpython-311.pyc",
                  ".pytest_cache/v/cache", ".mypy_cache/3.11/x.json", ".ruff_cache/x",
                  "feeder.egg-info/PKG-INFO"):
        assert _dockerignored(local, patterns), local
    dockerfile = (DEPLOY / "Dockerfile").read_text("utf-8")
    copied = [src for line in dockerfile.splitlines() if line.startswith("COPY ")
              and "--from=" not in line for src in line.split()[1:-1]]
    assert copied, "the Dockerfile copies nothing?"
    for src in copied:
        assert (ROOT / src).exists(), src
        assert not _dockerignored(src, patterns), src
    for kept in ("feeder/cli.py", "feeder/publish/rss.py", "demo/site/index.html"):
        assert not _dockerignored(kept, patterns), kept


def _compose_services(text: str) -> dict[str, str]:
    """Service name -> its block of compose.yaml (two-space keys under ``services:``)."""
    block = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    found = re.split(r"^  ([a-z][a-z0-9_-]*):\n", block, flags=re.M)[1:]
    return dict(zip(found[::2], found[1::2], strict=True))


def test_compose_sources_are_reachable_from_the_feeder_container() -> None:
    """127.0.0.1 inside a container is the container itself: every source compose gives
    feeder must be another compose service, listening on all its addresses."""
    services = _compose_services((DEPLOY / "compose.yaml").read_text("utf-8"))
    [feeds_mount] = re.findall(r"- (\S+):/etc/feeder/feeds:ro", services["feeder"])
    feeds = (DEPLOY / feeds_mount).resolve()
    files = sorted(feeds.glob("*.toml"))
    assert files, f"compose mounts {feeds}, which holds no source"
    for file in files:
        source = tomllib.loads(file.read_text("utf-8"))
        for url in source.get("urls", [source.get("url")]):
            host, port = urlsplit(url).hostname, urlsplit(url).port
            assert host in services, f"{file.name}: {url} is not a compose service"
            command = services[host]
            assert "0.0.0.0" in command and f'"{port}"' in command, command
            # The service serves a folder the repository holds.
            [mount] = re.findall(r"- (\.\./\S+):(\S+):ro", command)
            assert (DEPLOY / mount[0]).is_dir() and mount[1] + "/server.py" in command

"""`feeder status` shows the warnings of each source's latest poll (issue 12: a source URL that
now redirects permanently is reported with its new URL), and forgets them once a poll has none."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.site import Reply, SiteServer, article_html, listing_html, write_config

ROOT = Path(__file__).resolve().parent.parent


def _feeder(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feeder", "--config", str(config), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_status_shows_a_permanent_redirect_until_the_source_is_fixed(tmp_path: Path) -> None:
    moved = {"on": True}

    def resolve(path: str) -> Reply | None:
        if path == "/cu/" and moved["on"]:
            return Reply(b"", 301, {"Location": "/moi/"})
        if path in ("/moi/", "/cu/"):
            return Reply.html(listing_html(["/moi/bai-1.html"]))
        if path == "/moi/bai-1.html":
            return Reply.html(article_html(srv.url(path), "Hội nghị tổng kết công tác năm"))
        return None

    with SiteServer(resolve) as srv:
        config = write_config(
            tmp_path / "feeder.toml",
            {"out": str(tmp_path / "out"), "database": str(tmp_path / "feeder.db"),
             "host_delay": 0.0, "respect_robots": False},
            [{"id": "doi", "name": "Đổi", "url": srv.url("/cu/")}])
        assert _feeder(config, "run", "--once").returncode == 0
        shown = _feeder(config, "status")
        assert f"moved permanently to {srv.url('/moi/')}" in shown.stdout, shown.stdout
        assert "warning:" in shown.stdout
        as_json = json.loads(_feeder(config, "status", "--json").stdout)
        assert any("moved permanently" in w for w in as_json[0]["warnings"])

        moved["on"] = False  # the site stops redirecting (or the source's url was fixed)
        assert _feeder(config, "run", "--once").returncode == 0
        assert "moved permanently" not in _feeder(config, "status").stdout

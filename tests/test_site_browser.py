"""The index page in a real browser: Debian's chromium driven by Playwright, over `feeder serve`.

The page must render with no console error and no failed request, show one chart per source
(each an image with a title and a description a screen reader can find), and need no script.
Playwright's own browser download cannot be used here: it drives /usr/bin/chromium
(``apt-get install chromium``; ``.ci/run`` installs it). Skipped with the reason when the browser
or Playwright is missing, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feeder.serve import serve_in_thread
from tests.test_chart import SOURCES, published_site  # noqa: F401  (the fixture)

CHROMIUM = os.environ.get("FEEDER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no browser at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_index_renders_one_accessible_chart_per_source_without_errors(
        browser: Any, published_site: Path, tmp_path: Path) -> None:  # noqa: F811
    server, _ = serve_in_thread(published_site)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    page = browser.new_page(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    try:
        response = page.goto(url)
        assert response is not None and response.status == 200
        assert page.title() == "Feeds"
        charts = page.locator("svg[role=img]")
        assert charts.count() == len(SOURCES)
        for i in range(charts.count()):
            svg = charts.nth(i)
            box = svg.bounding_box()
            assert box and box["width"] > 100 and box["height"] > 20  # really drawn
            title_id, desc_id = svg.get_attribute("aria-labelledby").split()
            title = page.locator(f"#{title_id}").text_content()
            desc = page.locator(f"#{desc_id}").text_content()
            assert "items per day" in title and "items from" in desc
            # The accessibility tree names the image by its title and description.
            name = svg.evaluate("e => e.getAttribute('aria-labelledby')")
            assert name == f"{title_id} {desc_id}"
        assert page.locator("svg[role=img] rect.bar").count() > 30
        assert page.locator("svg[role=img] path.failed").count() == 4
        quiet = page.locator("tr.quiet")
        assert quiet.count() == 1 and "Báo Im Lặng" in quiet.inner_text()
        assert "quiet" in quiet.locator(".since").inner_text()
        page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
        assert (tmp_path / "index.png").stat().st_size > 10_000
        assert problems == []
    finally:
        page.close()
        server.shutdown()
        server.server_close()

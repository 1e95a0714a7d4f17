"""A real feed reader, newsboat, reads every RSS and Atom feed through deploy's nginx.

newsboat runs headless (``-x reload``) with its own urls file, config, cache and HOME per feed:
it de-duplicates items by guid across feeds, so a shared cache would hide the combined feed's
items. What it understood is read back from its SQLite cache (table ``rss_item``), which is
sturdier than scraping ``-x print-unread`` text. JSON Feed is not checked here: newsboat does not
read JSON Feed (tests/test_publish.py covers it).

Skipped with a visible reason when newsboat (or nginx) is not installed:
``apt-get install newsboat nginx``; ``.ci/run`` installs both.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from feeder.model import Article
from tests.test_nginx import Nginx, nginx  # noqa: F401  (the session fixture)
from tests.test_publish_fixtures import sample_feeds

NEWSBOAT = shutil.which("newsboat")
pytestmark = pytest.mark.skipif(
    NEWSBOAT is None, reason="newsboat is not installed (apt-get install newsboat)")


def read_with_newsboat(url: str, home: Path) -> list[dict[str, object]]:
    """Items newsboat stored for ``url``, in feed order, from an isolated cache in ``home``."""
    home.mkdir(parents=True)
    (home / "urls").write_text(url + "\n", "utf-8")
    (home / "config").write_text("", "utf-8")  # defaults only: what a new user gets
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / "config.d"), "XDG_DATA_HOME": str(home / "data.d"),
           "LANG": "C.UTF-8", "TERM": "dumb"}
    assert NEWSBOAT
    run = subprocess.run([NEWSBOAT, "-u", str(home / "urls"), "-C", str(home / "config"),
                          "-c", str(home / "cache.db"), "-x", "reload"],
                         env=env, capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    with sqlite3.connect(home / "cache.db") as db:
        db.row_factory = sqlite3.Row
        feed = db.execute("SELECT title FROM rss_feed WHERE rssurl = ?", (url,)).fetchone()
        assert feed is not None and feed["title"], f"newsboat did not read {url}"
        rows = db.execute("SELECT guid, title, url, author, pubDate FROM rss_item "
                          "WHERE feedurl = ? ORDER BY id", (url,)).fetchall()
    return [dict(r) for r in rows]


def expected(articles: list[Article], guid_kind: str) -> list[dict[str, object]]:
    return [{
        "guid": a.url if guid_kind == "rss" else f"urn:uuid:{a.id}",
        "title": a.title,
        "url": a.url,
        "author": ", ".join(a.authors),
        "pubDate": int(a.published.timestamp()) if a.published else 0,
    } for a in articles]


def _by_newest(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: (-a.published.timestamp(), a.id))  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_newsboat_reads_every_feed(nginx: Nginx, tmp_path: Path, name: str) -> None:  # noqa: F811
    feeds = sample_feeds()
    wanted = {f.source.id: list(f.articles) for f in feeds}
    wanted["all"] = _by_newest([a for f in feeds for a in f.articles])
    kind = "rss" if name == "rss.xml" else "atom"
    for key, articles in wanted.items():
        got = read_with_newsboat(nginx.url(f"/{key}/{name}"), tmp_path / key)
        # Every item, each with the right guid, title, link, author and time (compared as a
        # set: newsboat's storage order is its own business).
        assert sorted(got, key=lambda r: str(r["guid"])) == \
            sorted(expected(articles, kind), key=lambda r: str(r["guid"])), key


def test_newsboat_rereading_adds_no_items(nginx: Nginx, tmp_path: Path) -> None:  # noqa: F811
    """A second reload of the unchanged feed brings no new (re-unread) item."""
    url = nginx.url("/baocamau/atom.xml")
    first = read_with_newsboat(url, tmp_path / "a")
    home = tmp_path / "a"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "LANG": "C.UTF-8", "TERM": "dumb"}
    assert NEWSBOAT
    subprocess.run([NEWSBOAT, "-u", str(home / "urls"), "-C", str(home / "config"),
                    "-c", str(home / "cache.db"), "-x", "reload"],
                   env=env, capture_output=True, timeout=60, check=True)
    with sqlite3.connect(home / "cache.db") as db:
        count = db.execute("SELECT COUNT(*) FROM rss_item").fetchone()[0]
    assert count == len(first)

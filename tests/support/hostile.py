"""Shared pieces of the hostile-server tests (tests/test_hostile_fetch.py, _extract, _identity).

A site that looks public: its pages are served on 127.0.0.1, but sources name it
``news.test``, the Fetcher's resolver answers 127.0.0.1 for that name, and
:func:`~tests.support.http.loopback_counts_as_public` makes the private-address check accept
127.0.0.1. So the path a public news site takes (resolve once, check, connect to that address;
private images dropped) runs without leaving loopback.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser

from feeder.config import Config, Settings, Source
from feeder.fetch import Fetcher
from feeder.pipeline import Poller, PollResult
from feeder.store import Store

PUBLIC_NAME = "news.test"


def public_url(port: int, path: str) -> str:
    return f"http://{PUBLIC_NAME}:{port}{path}"


def resolver(host: str) -> list[str]:
    """The Fetcher's DNS for these tests: ``news.test`` is 127.0.0.1, nothing else resolves."""
    return ["127.0.0.1"] if host == PUBLIC_NAME else []


def source(sid: str, *urls: str) -> Source:
    return Source(id=sid, name=f"Báo {sid}", urls=tuple(urls), interval=timedelta(minutes=15))


def config(tmp_path: Path, database: str, *sources: Source, **settings: Any) -> Config:
    values: dict[str, Any] = {"out": tmp_path / "public", "database": database,
                              "base_url": "http://127.0.0.1:8080/", "host_delay": 0.0,
                              "respect_robots": False, "workers": 2, **settings}
    return Config(settings=Settings(**values), sources=sources)


def poll(cfg: Config, **fetcher_kwargs: Any) -> list[PollResult]:
    """One ``run_once`` over ``cfg``, with short backoffs and the ``news.test`` resolver."""
    kwargs: dict[str, Any] = {"backoff": 0.01, "max_wait": 0.05, "resolver": resolver,
                              **fetcher_kwargs}
    store = Store(cfg.settings.database)
    try:
        with Fetcher(cfg.settings, **kwargs) as fetcher:
            return Poller(cfg, store, fetcher).run_once()
    finally:
        store.close()


def feed_entries(out: Path, sid: str) -> dict[str, list[dict[str, Any]]]:
    """Each format's items as ``{"id", "link", "title", "content", "enclosures"}`` dicts, read by
    real readers (feedparser for RSS and Atom, json for JSON Feed), plain and ``.gz`` alike."""
    folder = out / sid
    found: dict[str, list[dict[str, Any]]] = {}
    for name in ("rss.xml", "atom.xml"):
        for label, data in ((name, (folder / name).read_bytes()),
                            (f"{name}.gz", gzip.decompress((folder / f"{name}.gz").read_bytes()))):
            parsed = feedparser.parse(data)
            assert not parsed.bozo, f"{label}: {parsed.get('bozo_exception')}"
            found[label] = [{
                "id": e.get("id"), "link": e.get("link"), "title": e.get("title", ""),
                "content": " ".join(c.value for c in e.get("content", [])) or e.get(
                    "summary", ""),
                "enclosures": [x.get("href") for x in e.get("enclosures", [])],
            } for e in parsed.entries]
    for label, data in (("feed.json", (folder / "feed.json").read_bytes()),
                        ("feed.json.gz", gzip.decompress((folder / "feed.json.gz").read_bytes()))):
        items = json.loads(data)["items"]
        found[label] = [{
            "id": i["id"], "link": i.get("url"), "title": i.get("title", ""),
            "content": i.get("content_html", ""),
            "enclosures": ([i["image"]] if i.get("image") else [])
            + [a["url"] for a in i.get("attachments", [])],
        } for i in items]
    return found


def links_in_every_format(out: Path, sid: str) -> dict[str, Sequence[str]]:
    return {label: [e["link"] for e in entries]
            for label, entries in feed_entries(out, sid).items()}

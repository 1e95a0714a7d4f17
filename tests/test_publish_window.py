"""The site files from the store's window (sizes, newest dates, the combined feed's articles)
are the same bytes as from every feed loaded in full, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from feeder import clock
from feeder.config import Config, Settings, Source
from feeder.model import Article, SourceFeed
from feeder.pipeline import Poller, site_activity
from feeder.publish import publish_site
from feeder.store import Intent, Store

ICT = timezone(timedelta(hours=7))


def test_window_equals_full_load(tmp_path: Path, database_url: str) -> None:
    clock.freeze(datetime(2024, 6, 2, 12, 0, tzinfo=UTC))
    rng = random.Random(7)
    sources = [Source(id=f"s{i}", name=f"Báo {i}", urls=(f"http://s{i}.example.vn/",),
                      max_items=m) for i, m in enumerate((3, 10, 50, 5))]
    store = Store(database_url)
    for s in sources:
        intents = []
        for n in range(rng.randint(0, 40) if s.id != "s3" else 0):
            when = datetime(2024, 5, 1, tzinfo=ICT) + timedelta(minutes=rng.randint(0, 40000))
            a = Article(url=f"http://{s.id}.example.vn/bai-{n}.html", title=f"{s.name} bài {n}",
                        source=s.id, content_html=f"<p>Bài {n}</p>", content_text=f"Bài {n}",
                        published=when,
                        updated=when + timedelta(hours=1) if n % 3 == 0 else None)
            intents.append(Intent("new", a, a.url))
        store.apply(s.id, intents)

    def settings(out: Path) -> Settings:
        return Settings(out=out, database=database_url, base_url="http://127.0.0.1:8080/")

    window_out, full_out = tmp_path / "window", tmp_path / "full"
    cfg = Config(settings=settings(window_out), sources=tuple(sources))
    Poller(cfg, store, fetcher=None).publish_site()  # type: ignore[arg-type]
    full = [SourceFeed(s, store.articles_for(s.id, s.max_items), store.health(s.id))
            for s in sources]
    publish_site(settings(full_out), full, site_activity(store, sources))
    store.close()

    names = sorted(p.relative_to(full_out).as_posix() for p in full_out.rglob("*") if p.is_file())
    assert "all/atom.xml" in names and "index.html" in names
    for name in names:
        assert (window_out / name).read_bytes() == (full_out / name).read_bytes(), name

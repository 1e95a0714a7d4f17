"""RFC 5005 archived feeds: what falls off a source's feed stays readable, a month per document.

A source's feed holds its newest ``max_items`` articles (the store's order). Every older article
is in exactly one archive month, chosen by its date in the source's time zone; each month is
written in Atom, ``<out>/<id>/archive/YYYY-MM.xml``, and in RSS, ``archive/YYYY-MM.rss`` (each
passes the W3C validator). Each format forms its own chain (RFC 5005 section 4)::

    atom.xml --prev-archive--> archive/2021-03.xml --prev-archive--> archive/2021-02.xml ...
             <----current----                      <--next-archive--
    rss.xml  --prev-archive--> archive/2021-03.rss --prev-archive--> archive/2021-02.rss ...

so a reader that follows ``prev-archive`` from the feed meets every article once. Each archive
carries ``<fh:archive/>``, a self link, a ``current`` link to the live feed and the links to its
neighbours; its ``updated`` is its newest item's date, so it is a pure function of its items.

Stability: articles leave the feed oldest first, so once a newer month has an archive, an older
month receives nothing more: its document is *finished* and keeps its bytes for good (an edit to
one of its articles, rare after the first day, rewrites it). Only the newest archive still fills
up, and it changes only when an article reaches it. Finished archives are listed in a per-source
Cache-Control map (``<out>/.feeder/archive-<id>.map``: a year); nginx and ``feeder serve`` cache
the others like a feed.

Rendering every archive on each change would read every stored article: instead each month has a
fingerprint of what its document depends on (its articles' ids, content hashes and change times,
its neighbours, the source's settings), kept beside the archives in ``.state.json``; only a month
whose fingerprint moved, or whose file is missing, is loaded and written again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from feeder.config import Settings, Source
from feeder.errors import PublishError
from feeder.model import Article
from feeder.output import OutFile, Output, open_output
from feeder.publish import atom, gate, rss
from feeder.publish.items import (
    ARCHIVE_FILES,
    Channel,
    archive_file,
    item_from,
    order,
    source_channel,
)
from feeder.publish.site import feed_max_age
from feeder.store import ArchivedRow

log = logging.getLogger(__name__)

FOLDER = "archive"
STATE = ".state.json"
#: Cache-Control of a finished archive: it never changes (RFC 5005 calls such documents stable).
FINISHED_CACHE_CONTROL = "public, max-age=31536000"
#: Bumped when the archive documents' layout changes, so every archive is written again.
FORMAT_VERSION = "2"


class ArchiveStore(Protocol):
    """The two store reads archiving needs (:class:`feeder.store.Store` has them)."""

    def archived_rows(self, source: str, skip: int) -> list[ArchivedRow]: ...

    def articles_by_pk(self, pks: Sequence[int]) -> dict[int, Article]: ...


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    changed: tuple[Path, ...]
    newest: str | None  # the newest archive's month, for the feeds' prev-archive links


def month_of(dt: datetime, tz: ZoneInfo) -> str:
    """``YYYY-MM`` of ``dt`` in the source's zone. Pure."""
    return dt.astimezone(tz).strftime("%Y-%m")


def months(rows: Sequence[ArchivedRow], tz: ZoneInfo) -> dict[str, list[ArchivedRow]]:
    """The archived rows by month, oldest month first. Pure."""
    out: dict[str, list[ArchivedRow]] = {}
    for row in sorted(rows, key=lambda r: (r.sort_time, r.pk)):
        out.setdefault(month_of(row.sort_time, tz), []).append(row)
    return out


def archive_names(month: str) -> dict[str, str]:
    """The month's archive file per feed format: ``{"atom.xml": "archive/2020-12.xml", ...}``."""
    return {feed: archive_file(month, feed) for feed in ARCHIVE_FILES}


def fingerprint(source: Source, settings: Settings, month: str, rows: Sequence[ArchivedRow],
                prev: str | None, nxt: str | None) -> str:
    """What the month's document depends on, hashed: equal fingerprints mean equal bytes."""
    parts = [FORMAT_VERSION, settings.base_url, source.id, source.name, source.description or "",
             source.language, source.home, source.timezone, month, prev or "", nxt or ""]
    parts += [f"{r.pk} {r.content_hash} {r.last_changed.isoformat()}" for r in rows]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def archive_channel(feed: Channel, month: str, articles: Sequence[Article],
                    prev: str | None, nxt: str | None) -> Channel:
    """The archive document of ``month``: the feed's identity, that month's items, its links."""
    items = [item_from(a, default_language=feed.language or "vi") for a in articles]
    return replace(
        feed, description=f"{feed.description} ({month})", hubs=(),
        items=order(items, len(items)), count=None, latest=None,
        archive_month=month, prev_archive=prev, next_archive=nxt)


_RENDER = {"atom.xml": (atom.render, gate.check_atom), "rss.xml": (rss.render, gate.check_rss)}


def render(channel: Channel, feed_name: str) -> bytes:
    """An archive's bytes in the format of ``feed_name``, through the same gate as every feed."""
    assert channel.archive_month
    write, check = _RENDER[feed_name]
    data = write(channel)
    try:
        check(data)
    except gate.InvalidFeed as exc:
        raise PublishError(f"invalid archive, not published: {exc}", source=channel.key,
                           path=f"{channel.key}/{archive_file(channel.archive_month, feed_name)}"
                           ) from exc
    return data


def _parse_state(data: bytes | None) -> dict[str, str]:
    try:
        state = json.loads(data) if data is not None else {}
    except ValueError:
        return {}  # damaged: every month is written again, which repairs it
    return state if isinstance(state, dict) else {}


def cache_map(source: Source, finished: Sequence[str]) -> bytes:
    """nginx ``map`` lines (the format of site.cache_control_map) for the finished archives."""
    lines = [f"# Written by feeder (archives of {source.id}): finished months never change."]
    lines += [f'"/{source.id}/{name}" "{FINISHED_CACHE_CONTROL}";'
              for m in finished for name in archive_names(m).values()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def publish_archives(settings: Settings, source: Source, store: ArchiveStore,
                     output: Output | None = None) -> ArchiveResult:
    """Write the archives of ``source`` that changed (to ``output``, the configured target by
    default); return them and the newest one's month.

    Raises PublishError (with ``source``) when one cannot be rendered or written; archives
    written before it stay, and the feed keeps its previous prev-archive link.
    """
    output = output or open_output(settings)
    feed = source_channel(source, (), settings.base_url)
    by_month = months(store.archived_rows(source.id, source.max_items), source.tz)
    names = list(by_month)
    state_name = f"{source.id}/{FOLDER}/{STATE}"
    old_state = _parse_state(output.read(state_name))
    state: dict[str, str] = {}
    stale: dict[str, tuple[str | None, str | None]] = {}
    for i, month in enumerate(names):
        prev = names[i - 1] if i > 0 else None
        nxt = names[i + 1] if i + 1 < len(names) else None
        state[month] = fingerprint(source, settings, month, by_month[month], prev, nxt)
        # The state is written after the documents, so a month it lists is on the target.
        if old_state.get(month) != state[month]:
            stale[month] = (prev, nxt)
    files: list[OutFile] = []
    if stale:
        records = store.articles_by_pk([r.pk for m in stale for r in by_month[m]])
        newest_cache = f"public, max-age={feed_max_age(feed.ttl_minutes)}"
        for month, (prev, nxt) in stale.items():
            articles = [records[r.pk] for r in by_month[month] if r.pk in records]
            channel = archive_channel(feed, month, articles, prev, nxt)
            files += [OutFile(f"{source.id}/{name}", render(channel, feed_name),
                              FINISHED_CACHE_CONTROL if nxt else newest_cache)
                      for feed_name, name in archive_names(month).items()]
    # A month with no article left (its articles were deleted) keeps its file: an archive URL,
    # once published, does not go away under a reader.
    if names:
        files.append(OutFile(f".feeder/archive-{source.id}.map",
                             cache_map(source, names[:-1]), gzip=False))
    changed: list[str] = []
    try:
        changed += output.publish(files)
        if state != old_state:
            changed += output.publish([OutFile(
                state_name, (json.dumps(state, indent=1, sort_keys=True) + "\n").encode(),
                gzip=False)])
    except OSError as exc:
        raise PublishError(f"cannot write an archive to {output.describe()}: {exc}",
                           source=source.id, path=f"{source.id}/{FOLDER}") from exc
    newest = names[-1] if names else None
    log.info("publish.archives source=%s months=%d written=%d", source.id, len(names), len(stale))
    return ArchiveResult(tuple(Path(settings.out) / n for n in changed if not n.endswith(STATE)),
                         newest)

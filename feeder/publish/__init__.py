"""The publish stage: articles -> feed files and the site around them.

::

    SourceFeed (articles, health)
    | items.source_channel     clean text, order newest first, limit, stable dates
    | rss / atom / jsonfeed    .render(channel) -> bytes (pure; same channel, same bytes)
    | gate.check_*             well-formed, required elements, dates, unique ids
    | write.write_with_gzip    atomic, only if the bytes differ, deterministic .gz sibling

Output layout under ``settings.out``::

    <source id>/rss.xml atom.xml feed.json (+ .gz)    one folder per source
    all/rss.xml atom.xml feed.json (+ .gz)            every source together
    index.html  feeds.opml  status.json  static/feed.xsl  (+ .gz)

Both entry points are safe to run twice and return only the paths whose bytes changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from feeder import clock
from feeder.config import Settings
from feeder.errors import PublishError
from feeder.model import SourceFeed
from feeder.publish import atom, gate, jsonfeed, rss, site
from feeder.publish.chart import Activity
from feeder.publish.items import ALL_MAX_ITEMS, Channel, combined_channel, source_channel
from feeder.publish.write import write_if_changed, write_with_gzip

__all__ = ["ALL_MAX_ITEMS", "publish_site", "publish_source", "render_channel"]

log = logging.getLogger(__name__)

_FORMATS: tuple[tuple[str, Callable[[Channel], bytes], Callable[[bytes], None]], ...] = (
    ("rss.xml", rss.render, gate.check_rss),
    ("atom.xml", atom.render, gate.check_atom),
    ("feed.json", jsonfeed.render, gate.check_json),
)


def render_channel(channel: Channel) -> dict[str, bytes]:
    """Every format of ``channel``, each having passed the gate: ``{"rss.xml": b"...", ...}``.

    Raises PublishError naming the channel and the file when any of them fails the gate.
    """
    out = {}
    for name, render, check in _FORMATS:
        data = render(channel)
        try:
            check(data)
        except gate.InvalidFeed as exc:
            raise PublishError(f"invalid feed, not published: {exc}", source=channel.key,
                               path=f"{channel.key}/{name}") from exc
        out[name] = data
    return out


def _write_channel(out_dir: Path, channel: Channel) -> list[Path]:
    # Render and check all three before writing any, so a failure leaves the set consistent.
    files = render_channel(channel)
    changed: list[Path] = []
    for name, data in files.items():
        path = out_dir / channel.key / name
        try:
            changed += write_with_gzip(path, data)
        except OSError as exc:
            raise PublishError(f"cannot write: {exc}", source=channel.key, path=str(path)) from exc
    return changed


def publish_source(settings: Settings, feed: SourceFeed, *,
                   prev_archive: str | None = None) -> list[Path]:
    """Write ``<out>/<source id>/{rss.xml,atom.xml,feed.json}`` (+ ``.gz``) for ``feed``.

    The articles are re-sorted newest first and limited to ``source.max_items`` whatever order
    they come in. Returns the paths that changed (empty when nothing did). Raises PublishError
    with ``source`` set when a feed fails the validity gate or cannot be written; the previously
    published files then stay as they were. The feeds name ``settings.hubs`` (WebSub) and
    ``prev_archive``, the newest archive document (RFC 5005, see :mod:`feeder.publish.archive`).
    """
    channel = source_channel(feed.source, feed.articles, settings.base_url,
                             hubs=settings.hubs, prev_archive=prev_archive)
    changed = _write_channel(Path(settings.out), channel)
    log.info("publish.source source=%s items=%d changed=%d", channel.key, len(channel.items),
             len(changed))
    return changed


def publish_site(settings: Settings, feeds: Sequence[SourceFeed],
                 activity: Mapping[str, Activity] | None = None) -> list[Path]:
    """Write the combined feed ``<out>/all/``, ``index.html``, ``feeds.opml``, ``status.json`` and
    ``static/feed.xsl`` (each + ``.gz``), each only when its bytes change; return those paths.

    ``feeds`` holds every configured source (also those without articles), in display order;
    ``activity`` (by source id) draws each source's last days on the index page.
    When the combined feed fails the gate, the other files are still written and PublishError
    (``source="all"``) is raised afterwards.
    """
    out = Path(settings.out)
    channels = [source_channel(f.source, f.articles, settings.base_url, count=f.item_count,
                               latest=f.newest) for f in feeds]
    healths = [f.health for f in feeds]
    combined = combined_channel(channels, settings.base_url, hubs=settings.hubs)
    changed: list[Path] = []
    failure: PublishError | None = None
    try:
        changed += _write_channel(out, combined)
    except PublishError as exc:
        failure = exc
    pages = {
        "index.html": site.index_html(channels, healths, combined, activity),
        "feeds.opml": site.opml(channels),
        "static/feed.xsl": site.stylesheet(),
    }
    status = site.status_json(channels, healths)
    if _status_due(out / "status.json", status):
        pages["status.json"] = status
    for name, data in pages.items():
        try:
            changed += write_with_gzip(out / name, data)
        except OSError as exc:
            raise PublishError(f"cannot write: {exc}", path=str(out / name)) from exc
    cache_map = out / site.CACHE_MAP
    try:
        if write_if_changed(cache_map, site.cache_control_map([*channels, combined])):
            changed.append(cache_map)
    except OSError as exc:
        raise PublishError(f"cannot write: {exc}", path=str(cache_map)) from exc
    log.info("publish.site sources=%d changed=%d", len(channels), len(changed))
    if failure is not None:
        raise failure
    return changed


# status.json carries poll times, which change on every poll. It is rewritten at once when a
# source's state changes (ok/failing, error, items), and otherwise at most this often, as a
# heartbeat: monitors see it is fresh, and an idle poll does not touch the output folder.
STATUS_HEARTBEAT = timedelta(minutes=10)
_POLL_TIMES = ("last_poll", "last_success", "next_due")


def _status_state(data: bytes) -> object:
    doc = json.loads(data)
    for entry in doc.get("sources", []):
        for key in _POLL_TIMES:
            entry.pop(key, None)
    return doc


def _status_due(path: Path, data: bytes) -> bool:
    try:
        old = path.read_bytes()
        age = clock.now().timestamp() - path.stat().st_mtime
    except OSError:
        return True
    try:
        same_state = _status_state(old) == _status_state(data)
    except ValueError:  # a damaged file is replaced
        return True
    return not same_state or age >= STATUS_HEARTBEAT.total_seconds()

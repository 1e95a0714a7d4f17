"""The publish stage: articles -> feed files and the site around them.

::

    SourceFeed (articles, health)
    | items.source_channel     clean text, order newest first, limit, stable dates
    | rss / atom / jsonfeed    .render(channel) -> bytes (pure; same channel, same bytes)
    | gate.check_*             well-formed, required elements, dates, unique ids
    | output.publish           one set per feed: only if the bytes differ, deterministic .gz
                               siblings, plain files before .gz (feeder.output: folder or S3)

Output layout under ``settings.out`` (or the ``s3://`` prefix)::

    <source id>/rss.xml atom.xml feed.json (+ .gz)    one folder per source
    all/rss.xml atom.xml feed.json (+ .gz)            every source together
    index.html  feeds.opml  status.json  static/feed.xsl  (+ .gz)

Both entry points are safe to run twice and return only the paths whose bytes changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from feeder import clock
from feeder.config import Settings
from feeder.errors import PublishError
from feeder.model import SourceFeed
from feeder.output import OutFile, Output, open_output
from feeder.publish import atom, gate, jsonfeed, rss, site, websub
from feeder.publish.chart import Activity
from feeder.publish.items import ALL_MAX_ITEMS, Channel, combined_channel, source_channel

__all__ = ["ALL_MAX_ITEMS", "SiteFiles", "channel_files", "publish_files", "publish_site",
           "publish_site_files", "publish_source", "render_channel", "site_files",
           "source_files"]

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


def channel_files(channel: Channel) -> list[OutFile]:
    """The three feed files of ``channel`` (rendered and gated), cached for its poll interval."""
    cache = f"public, max-age={site.feed_max_age(channel.ttl_minutes)}"
    return [OutFile(f"{channel.key}/{name}", data, cache)
            for name, data in render_channel(channel).items()]


def _publish(settings: Settings, output: Output, files: list[OutFile], *,
             source: str | None = None) -> list[Path]:
    """Publish ``files`` as one set; the changed ones as paths under ``settings.out``."""
    try:
        names = output.publish(files)
    except OSError as exc:
        where = ", ".join(f.name for f in files)
        raise PublishError(f"cannot write to {output.describe()}: {exc}", source=source,
                           path=where) from exc
    return [Path(settings.out) / name for name in names]


def source_files(settings: Settings, feed: SourceFeed, *,
                 prev_archive: str | None = None) -> list[OutFile]:
    """The feed files of ``feed`` (rendered and gated; see :func:`publish_source`)."""
    return channel_files(source_channel(feed.source, feed.articles, settings.base_url,
                                        hubs=settings.hubs, prev_archive=prev_archive))


def publish_files(settings: Settings, files: list[OutFile], *, source: str,
                  output: Output | None = None) -> list[Path]:
    """Publish one feed's rendered ``files`` as a set; return the paths that changed."""
    changed = _publish(settings, output or open_output(settings), files, source=source)
    log.info("publish.source source=%s changed=%d", source, len(changed))
    return changed


def publish_source(settings: Settings, feed: SourceFeed, *, prev_archive: str | None = None,
                   output: Output | None = None) -> list[Path]:
    """Write ``<out>/<source id>/{rss.xml,atom.xml,feed.json}`` (+ ``.gz``) for ``feed``.

    The articles are re-sorted newest first and limited to ``source.max_items`` whatever order
    they come in. Returns the paths that changed (empty when nothing did). Raises PublishError
    with ``source`` set when a feed fails the validity gate or cannot be written; the previously
    published files then stay as they were (all three: they are rendered and gated before any
    is written, and written as one set). The feeds name ``settings.hubs`` (WebSub) and
    ``prev_archive``, the newest archive's month (RFC 5005, see :mod:`feeder.publish.archive`).
    ``output`` defaults to the target ``settings`` name (feeder.output.open_output).
    """
    files = source_files(settings, feed, prev_archive=prev_archive)
    return publish_files(settings, files, source=feed.source.id, output=output)


@dataclass(frozen=True, slots=True)
class SiteFiles:
    """The site's files, rendered: the combined feed (empty when it failed the gate, then
    ``failure`` says why) and the pages around the feeds."""

    combined: list[OutFile]
    pages: list[OutFile]
    failure: PublishError | None = None


def site_files(settings: Settings, feeds: Sequence[SourceFeed],
               activity: Mapping[str, Activity] | None = None, *,
               output: Output | None = None) -> SiteFiles:
    """Render what :func:`publish_site` writes (``output`` is read for status.json's
    heartbeat)."""
    output = output or open_output(settings)
    channels = [source_channel(f.source, f.articles, settings.base_url, count=f.item_count,
                               latest=f.newest) for f in feeds]
    healths = [f.health for f in feeds]
    combined = combined_channel(channels, settings.base_url, hubs=settings.hubs)
    combined_files: list[OutFile] = []
    failure: PublishError | None = None
    try:
        combined_files = channel_files(combined)
    except PublishError as exc:
        failure = exc
    pages = [
        OutFile("index.html", site.index_html(channels, healths, combined, activity)),
        OutFile("feeds.opml", site.opml(channels)),
        OutFile("static/feed.xsl", site.stylesheet()),
    ]
    status = site.status_json(channels, healths)
    if _status_due(output, status):
        pages.append(OutFile("status.json", status))
    pages.append(OutFile(site.CACHE_MAP, site.cache_control_map([*channels, combined]),
                         gzip=False))
    pages.append(OutFile(websub.LINKS_FILE, websub.links_map(
        settings, [c.key for c in (*channels, combined)]), gzip=False))
    return SiteFiles(combined_files, pages, failure)


def publish_site_files(settings: Settings, files: SiteFiles, *,
                       output: Output | None = None) -> list[Path]:
    """Write rendered site files (see :func:`publish_site`); return the paths that changed."""
    output = output or open_output(settings)
    changed: list[Path] = []
    failure = files.failure
    if files.combined:
        try:
            changed += _publish(settings, output, files.combined, source="all")
        except PublishError as exc:
            failure = exc
    changed += _publish(settings, output, files.pages)
    log.info("publish.site changed=%d", len(changed))
    if failure is not None:
        raise failure
    return changed


def publish_site(settings: Settings, feeds: Sequence[SourceFeed],
                 activity: Mapping[str, Activity] | None = None, *,
                 output: Output | None = None) -> list[Path]:
    """Write the combined feed ``<out>/all/``, ``index.html``, ``feeds.opml``, ``status.json`` and
    ``static/feed.xsl`` (each + ``.gz``), each only when its bytes change; return those paths.

    ``feeds`` holds every configured source (also those without articles), in display order;
    ``activity`` (by source id) draws each source's last days on the index page.
    When the combined feed fails the gate, the other files are still written and PublishError
    (``source="all"``) is raised afterwards.
    """
    output = output or open_output(settings)
    return publish_site_files(settings, site_files(settings, feeds, activity, output=output),
                              output=output)


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


def _status_due(output: Output, data: bytes) -> bool:
    try:
        old, modified = output.read("status.json"), output.modified("status.json")
    except OSError:
        return True
    if old is None or modified is None:
        return True
    age = clock.now().timestamp() - modified
    try:
        same_state = _status_state(old) == _status_state(data)
    except ValueError:  # a damaged file is replaced
        return True
    return not same_state or age >= STATUS_HEARTBEAT.total_seconds()

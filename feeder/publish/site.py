"""The files around the feeds: ``index.html``, ``feeds.opml``, ``static/feed.xsl``, ``status.json``.

All are pure functions of the channels and the sources' health, so that an unchanged site renders
to unchanged bytes. ``index.html`` shows each source's health as a state (ok, failing since ...,
the last error) but not poll times, which change on every poll; those live in ``status.json``,
which publish_site rewrites when a state changes and otherwise only as a heartbeat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from lxml import etree

from feeder.model import SourceHealth
from feeder.publish import atom, chart, jsonfeed, rss
from feeder.publish.atom import rfc3339
from feeder.publish.chart import Activity
from feeder.publish.items import Channel
from feeder.publish.xsl import STYLESHEET

FEED_FILES = (
    ("rss.xml", "RSS", rss.CONTENT_TYPE),
    ("atom.xml", "Atom", atom.CONTENT_TYPE),
    ("feed.json", "JSON Feed", jsonfeed.CONTENT_TYPE),
)


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M %z") if dt is not None else "never"


def _iso(dt: datetime | None) -> str | None:
    return rfc3339(dt) if dt is not None else None


def _health_html(health: SourceHealth | None) -> str:
    if health is None:
        return '<span class="unknown">not polled yet</span>'
    if health.ok:
        text = '<span class="ok">ok</span>'
        if health.empty_polls:
            text += f' <span class="warn">(no article found in the last {health.empty_polls} ' \
                    f'poll{"s" if health.empty_polls > 1 else ""})</span>'
        return text
    since = f", last success {_when(health.last_success)}" if health.last_success else ""
    error = f'<br><small>{escape(health.last_error)}</small>' if health.last_error else ""
    return (f'<span class="fail">failing: {health.consecutive_failures} poll'
            f'{"s" if health.consecutive_failures > 1 else ""} in a row{escape(since)}</span>'
            f"{error}")


def _links(channel: Channel) -> str:
    return " · ".join(f'<a href="{escape(channel.key)}/{name}" type="{kind}">{label}</a>'
                      for name, label, kind in FEED_FILES)


def _activity_html(activity: Activity | None, channel: Channel) -> str:
    if activity is None:
        return ""
    return f"{chart.svg(activity, channel.title)}<br>{chart.since_html(activity)}"


def _row(name_cell: str, channel: Channel, health_html: str, activity_html: str = "",
         quiet: bool = False) -> str:
    """One table row of the index page; the first cell comes ready-made."""
    return ('<tr class="quiet">' if quiet else "<tr>") + (
            f"{name_cell}"
            f"<td>{_links(channel)}</td>"
            f"<td>{escape(_when(channel.updated))}</td>"
            f'<td class="n">{channel.size}</td>'
            f"<td>{health_html}</td>"
            f'<td class="activity">{activity_html}</td>'
            "</tr>")


def index_html(channels: Sequence[Channel], healths: Sequence[SourceHealth | None],
               combined: Channel, activity: Mapping[str, Activity] | None = None) -> bytes:
    """The site's front page: every feed with autodiscovery links, its last 30 days as a chart
    (``activity``, by source id; see :mod:`feeder.publish.chart`), last update, items, health.

    Links are relative so the page works wherever the folder is served (preview or production).
    """
    activity = activity or {}
    alternates = []
    for ch in (combined, *channels):
        for name, label, kind in FEED_FILES:
            alternates.append(f'<link rel="alternate" type="{kind}" '
                              f'title="{escape(ch.title)} ({label})" '
                              f'href="{escape(ch.key)}/{name}">')
    rows = []
    for ch, health in zip(channels, healths, strict=True):
        lang = f' lang="{escape(ch.language)}"' if ch.language else ""
        act = activity.get(ch.key)
        rows.append(_row(f'<td{lang}><a href="{escape(ch.home_url)}">{escape(ch.title)}</a></td>',
                         ch, _health_html(health), _activity_html(act, ch),
                         quiet=act is not None and act.quiet))
    rows.append(_row(f"<td><strong>{escape(combined.title)}</strong></td>", combined, ""))
    nl = "\n"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feeds</title>
<link rel="icon" href="data:,">
{nl.join(alternates)}
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem;
       padding: 0 1rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left;
         vertical-align: top; }}
td.n {{ text-align: right; }}
.ok {{ color: #060; }} .fail {{ color: #a00; }} .warn, .unknown {{ color: #850; }}
td.activity {{ font-size: .85rem; color: #444; }}
tr.quiet {{ background: #fff4e0; }} .since.quiet {{ color: #850; }}
</style>
</head>
<body>
<h1>Feeds</h1>
<p>Subscribe to a feed in your feed reader, or import <a href="feeds.opml">feeds.opml</a>
(all sources). Polling status: <a href="status.json">status.json</a>.</p>
<table>
<thead><tr><th>Source</th><th>Feeds</th><th>Last update</th><th>Items</th><th>Health</th>
<th>Last {chart.WINDOW_DAYS} days</th></tr>
</thead>
<tbody>
{nl.join(rows)}
</tbody>
</table>
</body>
</html>
"""
    return page.encode("utf-8")


def opml(channels: Sequence[Channel]) -> bytes:
    """OPML 2.0 subscription list of every source's RSS feed (not ``all``: it would duplicate).

    ``xmlUrl`` must be absolute (OPML 2.0): it is the feed's own URL, the one its ``self`` link
    carries. No ``dateCreated``: it would be the build time.
    """
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "Feeds"
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    for ch in channels:
        etree.SubElement(body, "outline", type="rss", text=ch.title, title=ch.title,
                         xmlUrl=ch.url("rss.xml"), htmlUrl=ch.home_url)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def status_json(channels: Sequence[Channel], healths: Sequence[SourceHealth | None]) -> bytes:
    """Per-source health for monitoring: poll times, failures, last error, items published."""
    sources: list[dict[str, Any]] = []
    for ch, h in zip(channels, healths, strict=True):
        entry: dict[str, Any] = {"id": ch.key, "name": ch.title,
                                 "feed_items": ch.size, "feed_updated": _iso(ch.updated)}
        if h is None:
            entry["ok"] = None
        else:
            entry.update(
                ok=h.ok,
                last_poll=_iso(h.last_poll),
                last_success=_iso(h.last_success),
                last_error=h.last_error,
                consecutive_failures=h.consecutive_failures,
                next_due=_iso(h.next_due),
                item_count=h.item_count,
                empty_polls=h.empty_polls,
                selectors_broken=h.selectors_broken,
            )
        sources.append(entry)
    doc = {"ok": all(s["ok"] is not False for s in sources), "sources": sources}
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def stylesheet() -> bytes:
    """The XSL stylesheet that renders RSS and Atom files as a page in a browser."""
    return STYLESHEET.encode("utf-8")


# Where publish_site writes the per-feed Cache-Control values: a dot folder, which neither nginx
# (deploy/nginx/feeder.conf) nor `feeder serve` ever serves.
CACHE_MAP = ".feeder/cache-control.map"
def feed_max_age(ttl_minutes: int) -> int:
    """Seconds a reader or proxy may cache a feed: its poll interval, from 1 minute to 1 hour.

    Nothing new can appear before the next poll, so caching for one interval costs a reader at
    most one interval of delay; past an hour the 304 that revalidation costs is cheaper.
    """
    return max(60, min(ttl_minutes * 60, 3600))


def cache_control_map(channels: Sequence[Channel]) -> bytes:
    """An nginx ``map`` body: request path -> Cache-Control, for each feed file of each channel.

    nginx includes it (``map $uri $feeder_cache_control { include .../cache-control.map; }``)
    and the preview server reads it, so both give the same header.
    """
    lines = ["# Written by feeder (publish_site): Cache-Control per feed, from its poll interval."]
    for ch in sorted(channels, key=lambda c: c.key):
        value = f"public, max-age={feed_max_age(ch.ttl_minutes)}"
        lines += [f'"/{ch.key}/{name}" "{value}";' for name, _, _ in FEED_FILES]
    return ("\n".join(lines) + "\n").encode("utf-8")

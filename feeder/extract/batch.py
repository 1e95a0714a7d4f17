"""``feeder extract --batch``: one record (or one error) per manifest line; a bad page never stops
the batch.

Manifest lines are ``{"id", "path", "url"}`` with ``path`` relative to the manifest (``.html`` or
``.html.gz``); output lines are ``{"id", "record"}`` or ``{"id", "error"}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from feeder.errors import FeederError
from feeder.extract.core import extract
from feeder.pagefile import read_page


def _manifest_object(line: bytes) -> dict[str, Any]:
    """One manifest line as a JSON object; ValueError says what is wrong with it."""
    entry = json.loads(line)
    if not isinstance(entry, dict):
        raise ValueError(f"a manifest line must be a JSON object, got {type(entry).__name__}")
    return entry


def _page_path(entry: dict[str, Any], root: Path) -> Path:
    if not isinstance(entry.get("path"), str):
        raise ValueError('a manifest line needs "path": the page file, relative to the manifest')
    return root / entry["path"]


def run_batch(manifest: Path, out: TextIO, *, timezone: str | None = None) -> tuple[int, int]:
    """Extract every page of ``manifest`` into ``out``; returns ``(records, errors)``.

    ``timezone=None`` lets each page's own evidence (and its language) choose the zone for naive
    times, since a manifest mixes sources. A bad line gets an error line; the batch goes on.
    """
    ok = failed = 0
    root = manifest.parent
    try:
        lines = manifest.open("rb")
    except OSError as exc:
        raise FeederError(f"{manifest}: cannot read: {exc.strerror or exc}") from None
    with lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            page_id: str = f"line-{number}"
            try:
                entry = _manifest_object(line)
                page_id = str(entry.get("id") or page_id)
                body = read_page(_page_path(entry, root))
                record = extract(body, entry.get("url") or "", timezone=timezone)
                out.write(json.dumps({"id": page_id, "record": record.to_dict()},
                                     ensure_ascii=False) + "\n")
                ok += 1
            except (FeederError, ValueError) as exc:
                out.write(json.dumps({"id": page_id, "error": f"{type(exc).__name__}: {exc}"},
                                     ensure_ascii=False) + "\n")
                failed += 1
    return ok, failed

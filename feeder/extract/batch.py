"""``feeder extract --batch``: one record (or one error) per manifest line; a bad page never stops
the batch.

Manifest lines are ``{"id", "path", "url"}`` with ``path`` relative to the manifest (``.html`` or
``.html.gz``); output lines are ``{"id", "record"}`` or ``{"id", "error"}``.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import TextIO

from feeder.errors import FeederError
from feeder.extract.core import extract


def read_page(path: Path) -> bytes:
    """The bytes of a saved page, gunzipped when its name ends in ``.gz``."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def run_batch(manifest: Path, out: TextIO, *, timezone: str | None = None) -> tuple[int, int]:
    """Extract every page of ``manifest`` into ``out``; returns ``(records, errors)``.

    ``timezone=None`` lets each page's own evidence (and its language) choose the zone for naive
    times, since a manifest mixes sources.
    """
    ok = failed = 0
    root = manifest.parent
    with manifest.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            page_id: str = f"line-{number}"
            try:
                entry = json.loads(line)
                page_id = str(entry.get("id") or page_id)
                body = read_page(root / entry["path"])
                record = extract(body, entry.get("url") or "", timezone=timezone)
                out.write(json.dumps({"id": page_id, "record": record.to_dict()},
                                     ensure_ascii=False) + "\n")
                ok += 1
            except (FeederError, OSError, ValueError, KeyError, EOFError) as exc:
                out.write(json.dumps({"id": page_id, "error": f"{type(exc).__name__}: {exc}"},
                                     ensure_ascii=False) + "\n")
                failed += 1
    return ok, failed

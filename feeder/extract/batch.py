"""``feeder extract --batch``: one record (or one error) per manifest line; a bad page never stops
the batch.

Manifest lines are ``{"id", "path", "url"}`` with ``path`` relative to the manifest (``.html`` or
``.html.gz``); output lines are ``{"id", "record"}`` or ``{"id", "error"}``.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any, TextIO

from feeder.config import Settings
from feeder.errors import ExtractError, FeederError
from feeder.extract.core import extract

#: The same cap a fetched page gets by default (``max_bytes``): a saved page is no bigger, and
#: ``/dev/zero`` or a gzip bomb must not be read into memory for ever.
DEFAULT_MAX_BYTES = Settings().max_bytes


def read_page(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a saved page, gunzipped when its name ends in ``.gz``.

    Reads at most ``max_bytes`` (decompressed); raises ExtractError for a larger page or for a
    ``.gz`` that is not gzip data, FeederError when the file cannot be read.
    """
    try:
        with path.open("rb") as raw:
            if path.suffix != ".gz":
                return _capped(raw.read(max_bytes + 1), path, max_bytes)
            with gzip.GzipFile(fileobj=raw) as unzipped:
                return _capped(unzipped.read(max_bytes + 1), path, max_bytes)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ExtractError(f"{path}: not valid gzip data ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise FeederError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _capped(data: bytes, path: Path, max_bytes: int) -> bytes:
    if len(data) > max_bytes:
        raise ExtractError(f"{path}: more than {max_bytes:,} bytes (max_bytes); "
                           "not read further")
    return data


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

"""Saved pages on disk (``.html``, ``.html.gz``) read as a fetched page would be: capped.

``feeder extract FILE`` and ``feeder links FILE`` read them; ``/dev/zero``, a gzip bomb or a huge
file must not be read into memory for ever, and a ``.gz`` that is not gzip is named as such.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from feeder.config import Settings
from feeder.errors import ExtractError, FeederError

#: The same cap a fetched page gets by default (``max_bytes``): a saved page is no bigger, and
#: ``/dev/zero`` or a gzip bomb must not be read into memory for ever.
MAX_BYTES = Settings().max_bytes


def read_page(path: Path) -> bytes:
    """The bytes of a saved page, gunzipped when its name ends in ``.gz``.

    Reads at most :data:`MAX_BYTES` (decompressed); raises ExtractError for a larger page or for a
    ``.gz`` that is not gzip data, FeederError when the file cannot be read.
    """
    try:
        with path.open("rb") as raw:
            if path.suffix != ".gz":
                return _capped(raw.read(MAX_BYTES + 1), path)
            with gzip.GzipFile(fileobj=raw) as unzipped:
                return _capped(unzipped.read(MAX_BYTES + 1), path)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ExtractError(f"{path}: not a valid gzip file ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise FeederError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _capped(data: bytes, path: Path) -> bytes:
    if len(data) > MAX_BYTES:
        raise ExtractError(f"{path}: more than {MAX_BYTES:,} bytes (max_bytes); "
                           "not read further")
    return data

"""Writing output files: atomically, only when the bytes change, with deterministic ``.gz`` twins.

Why each rule matters:

* **temp file + rename in the same folder**: a reader (nginx, a subscriber) sees either the old
  file or the new one, never half of one; ``os.replace`` is atomic only within one filesystem.
* **fsync before rename, and of the folder after**: after a crash the name points at complete
  bytes, not at an empty file.
* **only when the bytes differ**: an unchanged file keeps its modification time, so nginx keeps
  its ETag and Last-Modified and every poller gets a 304.
* **stale temp files swept**: a crash (kill -9, power loss) between ``mkstemp`` and the rename
  leaves a ``.name.XXXX.tmp`` behind (a dot-file: web servers do not serve it); the next write of
  the same file removes those older than :data:`STALE_TEMP`, so crashes cannot fill the disk.
  Younger ones may belong to a writer still at work in another process.
* **gzip with mtime=0 and no file name**: the ``.gz`` sibling (for nginx ``gzip_static``) depends
  only on the content, so it is as stable as the file it compresses.
* **a feed's files as one set** (:func:`write_set`): every changed file and its ``.gz`` is staged
  (written and fsynced under a temp name) before any is renamed into place, plain files first,
  then their ``.gz``. A full disk fails while staging, so no file changes at all and the three
  formats and their ``.gz`` still agree; only a kill -9 in the short run of renames can leave a
  mix, which the next build repairs (its version was not recorded as written).
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from glob import escape as glob_escape
from pathlib import Path

log = logging.getLogger(__name__)

#: Files are world-readable: nginx usually runs as another user than feeder.
FILE_MODE = 0o644
#: A temp file this old is a crash's leftover, not a write in progress.
STALE_TEMP = 3600.0


def gzip_bytes(data: bytes) -> bytes:
    """``data`` gzip-compressed, byte-identical for identical input (no time, no name)."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except (FileNotFoundError, NotADirectoryError):
        return False


def write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically make ``path`` hold ``data``; return False (and touch nothing) if it already does.

    Raises OSError when the file cannot be written; the old file is then left as it was.
    """
    if _holds(path, data):
        return False
    tmp = _stage(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    log.debug("publish.write path=%s bytes=%d", path, len(data))
    _sweep_stale_temps(path)
    return True


def write_set(files: Mapping[Path, bytes]) -> list[Path]:
    """Make every path of ``files`` hold its bytes, and its ``.gz`` sibling the gzip of them, as
    one set: all are staged before any is renamed into place (plain files, then ``.gz``). Only
    files whose bytes differ are touched; returns those paths.

    Raises OSError when one cannot be staged (a full disk): then no file has changed.
    """
    wanted = {**files, **{_gz(p): gzip_bytes(d) for p, d in files.items()}}
    todo = [(p, d) for p, d in wanted.items() if not _holds(p, d)]
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in todo:
            staged.append((_stage(path, data), path))
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    for tmp, path in staged:  # `wanted` lists the plain files first
        os.replace(tmp, path)
    for folder in dict.fromkeys(path.parent for _, path in staged):
        _fsync_dir(folder)
    for _, path in staged:
        log.debug("publish.write path=%s", path)
        _sweep_stale_temps(path)
    return [path for _, path in staged]


def _gz(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


def _stage(path: Path, data: bytes) -> Path:
    """``data`` in a complete, fsynced temp file beside ``path``; OSError leaves no temp file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600, which nginx could not read
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def _sweep_stale_temps(path: Path) -> None:
    """Remove ``path``'s temp files left by crashed writers (older than STALE_TEMP)."""
    cutoff = time.time() - STALE_TEMP
    for tmp in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                log.info("publish.stale_temp_removed path=%s", tmp)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename durable; not possible on every platform (Windows), hence best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

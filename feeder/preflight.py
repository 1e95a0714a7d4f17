"""Checks made once at start, before the first poll: every place feeder will write is writable.

Without them an unwritable ``out`` showed only after every source had been polled (the fetching
wasted, the error buried in a summary), and an unwritable ``metrics_file`` crashed the run.
A failure is a :class:`~feeder.errors.ConfigError` naming the file and the key (exit status 2).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from feeder.config import Config
from feeder.errors import ConfigError
from feeder.store import sqlite_file


def writable_folder(folder: Path) -> str | None:
    """Create ``folder`` if needed and write a probe file in it; the reason it failed, or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # A dot name: the preview server and nginx never serve it, even if it were left behind.
        fd, probe = tempfile.mkstemp(prefix=".feeder-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()),
                       folder)
        return f"{blocker} is a file, not a folder"
    except OSError as exc:
        return f"{exc.strerror or exc}: {exc.filename or folder}"
    return None


def check_writable(cfg: Config, only: tuple[str, ...] | None = None) -> None:
    """Raise ConfigError unless ``out``, the SQLite database's folder and ``metrics_file``'s
    folder (or those of them named in ``only``) can be written."""
    settings = cfg.settings
    places: list[tuple[str, Path]] = [("out", settings.out)]
    if (db := sqlite_file(settings.database)) is not None:
        places.append(("database", db.parent))
    if settings.metrics_file is not None:
        places.append(("metrics_file", settings.metrics_file.parent))
    file = str(cfg.path) if cfg.path else None
    if settings.metrics_file is not None and settings.metrics_file.is_dir():
        raise ConfigError(f"{settings.metrics_file} is a folder; give a file name such as "
                          "feeder.prom", file=file, key="metrics_file")
    for key, folder in places:
        if only is not None and key not in only:
            continue
        reason = writable_folder(folder)
        if reason is not None:
            raise ConfigError(f"cannot write in {folder} ({reason})", file=file, key=key)

"""The folder target: files under a local or shared folder (see feeder.publish.write)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from feeder.output import OutFile
from feeder.publish.write import write_if_changed, write_set


class FolderOutput:
    """Files under ``root``. Each is replaced atomically; a set is staged before any rename."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def publish(self, files: Sequence[OutFile]) -> list[str]:
        changed = write_set({self.root / f.name: f.data for f in files if f.gzip})
        # Private files (dot-paths: state, nginx maps) have no .gz twin.
        changed += [self.root / f.name for f in files
                    if not f.gzip and write_if_changed(self.root / f.name, f.data)]
        return [p.relative_to(self.root).as_posix() for p in changed]

    def read(self, name: str) -> bytes | None:
        try:
            return (self.root / name).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def modified(self, name: str) -> float | None:
        try:
            return (self.root / name).stat().st_mtime
        except (FileNotFoundError, NotADirectoryError):
            return None

    def describe(self) -> str:
        return str(self.root)

"""Where published files go: a folder (local or shared) or S3-compatible object storage.

Both targets take the same files, with the same bytes, behind one small interface
(:class:`Output`), so the publishers do not know which one they write to:

* :class:`~feeder.output.folder.FolderOutput`: files under a folder, each replaced atomically
  (temp file + rename), a feed's set staged before any rename; nginx or ``feeder serve`` serves
  it, with the Content-Type and Cache-Control from their own configuration.
* :class:`~feeder.output.s3.S3Output`: objects under ``s3://bucket/prefix``, each with its
  Content-Type and Cache-Control, and no PUT when an object already holds the bytes.

Every file ``name`` is published with a gzip twin ``name.gz`` (nginx's ``gzip_static`` on a
folder; on S3 an object of its own, see feeder.output.s3) unless it is private (a dot-path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from feeder.config import Settings


@dataclass(frozen=True, slots=True)
class OutFile:
    """One file to publish. ``name`` is relative and ``/``-separated (``s1/rss.xml``);
    ``cache_control`` overrides the target's default for its kind (a feed's poll interval)."""

    name: str
    data: bytes
    cache_control: str | None = None
    gzip: bool = True  # also publish ``name.gz``


class Output(Protocol):
    """A publishing target. Implementations are safe to share between threads."""

    def publish(self, files: Sequence[OutFile]) -> list[str]:
        """Make each file (and its ``.gz``) hold its bytes, as one set: plain files before their
        ``.gz``, nothing touched whose bytes are already there. Returns the names written.
        Raises OSError when the target refuses; a full disk then changes nothing."""
        ...

    def read(self, name: str) -> bytes | None:
        """The bytes ``name`` holds now (None: no such file)."""
        ...

    def modified(self, name: str) -> float | None:
        """When ``name`` was last written, as a Unix time (None: no such file)."""
        ...

    def describe(self) -> str:
        """Where the files go, for messages (a folder path or an ``s3://`` URL)."""
        ...


def open_output(settings: Settings) -> Output:
    """The target ``settings`` name: ``s3_url`` when set, else the folder ``out``."""
    if settings.s3_url:
        from feeder.output.s3 import S3Output

        return S3Output(settings.s3_url, endpoint_url=settings.s3_endpoint_url)
    from feeder.output.folder import FolderOutput

    return FolderOutput(settings.out)

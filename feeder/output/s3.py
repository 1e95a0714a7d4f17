"""The S3 target: objects in S3-compatible storage (AWS S3, MinIO, Ceph, ...) through boto3.

Each file is one object under ``s3://bucket/prefix/``, with the Content-Type and Cache-Control
``feeder serve`` and the nginx configuration give it (feeder.serve). Its gzip twin is an object
of its own, ``name.gz``, with the plain file's Content-Type and ``Content-Encoding: gzip``: a
CDN or proxy that maps ``Accept-Encoding: gzip`` to the ``.gz`` key serves it as it should, and a
client fetching the plain key gets the plain bytes. Plain objects are written before their
``.gz``, as in a folder.

No PUT when an object already holds the bytes: S3 gives a single-part object the MD5 of its
bytes as ETag, and one listing per folder returns them all. (Buckets encrypting with KMS give
other ETags; feeder then re-PUTs every file of a changed feed, which is correct, only slower.)
Credentials come from the environment, as boto3 finds them (``AWS_ACCESS_KEY_ID`` ...);
``s3_endpoint_url`` points at a non-AWS service.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feeder.errors import ConfigError
from feeder.output import OutFile
from feeder.publish.write import gzip_bytes


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix/")``; ValueError when it is not
    one."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


class S3Output:
    """Objects under ``s3://bucket/prefix``."""

    def __init__(self, url: str, *, endpoint_url: str | None = None, client: Any = None) -> None:
        self.url = url
        self.bucket, self.prefix = split_s3_url(url)
        if client is None:
            try:
                import boto3
            except ImportError as exc:
                raise ConfigError(f"out = {url!r} needs boto3: pip install 'feeder[s3]'",
                                  key="out") from exc
            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client

    def describe(self) -> str:
        return self.url

    def _key(self, name: str) -> str:
        return self.prefix + name

    def publish(self, files: Sequence[OutFile]) -> list[str]:
        from feeder.serve import cache_control, content_type

        puts: list[tuple[str, bytes, dict[str, str]]] = []
        twins: list[tuple[str, bytes, dict[str, str]]] = []
        for f in files:
            path = Path(f.name)
            headers = {"ContentType": content_type(path),
                       "CacheControl": f.cache_control or cache_control(path)}
            puts.append((f.name, f.data, headers))
            if f.gzip:
                twins.append((f.name + ".gz", gzip_bytes(f.data),
                              {**headers, "ContentEncoding": "gzip"}))
        etags = self._etags({posixpath.dirname(name) for name, _, _ in puts})
        written = []
        for name, data, headers in [*puts, *twins]:  # plain objects first, then their .gz
            key = self._key(name)
            if etags.get(key) == f'"{hashlib.md5(data).hexdigest()}"':
                continue
            try:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **headers)
            except Exception as exc:  # botocore's errors share no base class worth naming
                raise OSError(f"{self.url}: cannot PUT {key}: {exc}") from exc
            written.append(name)
        return written

    def _etags(self, folders: set[str]) -> dict[str, str]:
        """ETag by key of the objects directly in each folder: one listing per folder."""
        found: dict[str, str] = {}
        paginator = self.client.get_paginator("list_objects_v2")
        for folder in sorted(folders):
            prefix = self._key(f"{folder}/" if folder else "")
            try:
                for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                    found.update((o["Key"], o["ETag"]) for o in page.get("Contents", ()))
            except Exception as exc:
                raise OSError(f"{self.url}: cannot list {prefix}: {exc}") from exc
        return found

    def _head(self, name: str, method: str) -> Any:
        from botocore.exceptions import ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, Key=self._key(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise OSError(f"{self.url}: cannot read {name}: {exc}") from exc

    def read(self, name: str) -> bytes | None:
        got = self._head(name, "get_object")
        return None if got is None else bytes(got["Body"].read())

    def modified(self, name: str) -> float | None:
        got = self._head(name, "head_object")
        return None if got is None else float(got["LastModified"].timestamp())

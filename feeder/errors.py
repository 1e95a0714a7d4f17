"""The exception tree of feeder.

::

    FeederError                  anything feeder raises on purpose
    ├── ConfigError              bad configuration: names the file, the source id and the key
    ├── FetchError               a URL could not be fetched (network, HTTP status, ...)
    │   └── FetchRefused         feeder would not fetch it (robots.txt, private address, size,
    │                            type, redirect loop): never worth retrying
    ├── ExtractError             a page could not be turned into an article
    ├── StoreError               the database failed
    └── PublishError             a feed could not be built or written

Errors are wrapped only at layer boundaries, always with ``raise ... from exc`` so the cause stays
visible. Programming errors (TypeError, KeyError, ...) are never wrapped.
"""

from __future__ import annotations


class FeederError(Exception):
    """Root of every error feeder raises on purpose."""


class ConfigError(FeederError):
    """The configuration is invalid.

    ``file``, ``source`` and ``key`` say where; the message says what is wrong.
    """

    def __init__(
        self, message: str, *, file: str | None = None, source: str | None = None,
        key: str | None = None,
    ) -> None:
        self.file, self.source, self.key, self.reason = file, source, key, message
        where = []
        if file:
            where.append(str(file))
        if source:
            where.append(f"source {source!r}")
        if key:
            where.append(f"key {key!r}")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class FetchError(FeederError):
    """A URL could not be fetched. ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, *, url: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        self.url, self.status, self.retry_after = url, status, retry_after
        super().__init__(f"{url}: {message}")

    @property
    def transient(self) -> bool:
        """True when trying again later may succeed (timeouts, resets, 429, 5xx)."""
        return self.status is None or self.status == 429 or self.status >= 500


class FetchRefused(FetchError):
    """feeder refused a URL on purpose (robots.txt, private address, size, type, redirects).

    Never transient: asking again gives the same answer.
    """

    @property
    def transient(self) -> bool:
        return False


class ExtractError(FeederError):
    """A page could not be turned into an article."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = url
        super().__init__(f"{url}: {message}" if url else message)


class StoreError(FeederError):
    """The database failed."""


class PublishError(FeederError):
    """A feed could not be built, failed validation, or could not be written."""

    def __init__(self, message: str, *, source: str | None = None, path: str | None = None) -> None:
        self.source, self.path = source, path
        prefix = " ".join(p for p in (f"source {source!r}" if source else "", path or "") if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)

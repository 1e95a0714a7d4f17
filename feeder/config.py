"""Configuration: ``feeder.toml`` plus one ``feeds/*.toml`` file per source.

Validated once, at load. Every error is a :class:`~feeder.errors.ConfigError` naming the file, the
source id and the key; the CLI turns it into exit status 2.

``feeder.toml``::

    [feeder]
    out = "public"                      # output folder, relative to this file, or
                                        # "s3://bucket/prefix" (with s3_endpoint_url if not AWS)
    database = "var/feeder.db"          # a path (SQLite) or an SQLAlchemy URL
    base_url = "http://127.0.0.1:8080/" # public URL of the output folder, for self links
    user_agent = "feeder/0.1 (+https://example.org/feeder)"
    feeds = "feeds"                     # folder of per-source TOML files
    hub = "https://hub.example.org/"    # optional WebSub hub(s): a URL or a list of URLs

    [[sources]]                         # optional; feeds/*.toml add more
    id = "baoxyz"
    name = "Báo XYZ"
    url = "https://baoxyz.vn/thoi-su/"  # or urls = [...]

A ``feeds/*.toml`` file holds one source as top-level keys, or several as ``[[sources]]``.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feeder import __version__
from feeder.errors import ConfigError

DEFAULT_CONFIG = Path("feeder.toml")
DEFAULT_USER_AGENT = f"feeder/{__version__} (+https://github.com/feeder-project/feeder)"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_INTERVAL_RE = re.compile(
    r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")
_RESERVED_IDS = {"all", "static"}
#: How a source announces its articles (see feeder.sources): an HTML listing page, a sitemap
#: (sitemap index, news sitemap) or an RSS/Atom feed.
KINDS = ("listing", "sitemap", "feed")
# Adaptive polling's bounds when a source gives only one of them.
DEFAULT_MIN_INTERVAL = timedelta(minutes=5)
DEFAULT_MAX_INTERVAL = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Source:
    """One site (or one section of a site) to publish feeds for.

    ``urls`` are where the site announces its articles, read as ``kind`` says: listing pages,
    sitemaps or feeds. ``min_interval`` / ``max_interval`` (both set, or neither) make polling
    adaptive (feeder.policy); ``interval`` is then the shortest wait, ``min_interval``.
    """

    id: str
    name: str
    urls: tuple[str, ...]
    kind: str = "listing"
    link_selector: str | None = None
    timezone: str = "Asia/Ho_Chi_Minh"
    language: str = "vi"
    interval: timedelta = timedelta(minutes=30)
    max_items: int = 50
    description: str | None = None
    home_url: str | None = None
    min_interval: timedelta | None = None
    max_interval: timedelta | None = None
    file: str | None = None  # where it was defined, for error messages

    @property
    def adaptive(self) -> bool:
        """Polled on a learnt cadence between ``min_interval`` and ``max_interval``."""
        return self.min_interval is not None and self.max_interval is not None

    @property
    def url(self) -> str:
        """The first listing page."""
        return self.urls[0]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def home(self) -> str:
        """The site's home page: ``home_url`` or the scheme and host of the first listing URL."""
        if self.home_url:
            return self.home_url
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/"


@dataclass(frozen=True, slots=True)
class Settings:
    """The ``[feeder]`` table."""

    out: Path = Path("public")
    database: str = "sqlite:///var/feeder.db"
    base_url: str = "http://127.0.0.1:8080/"
    user_agent: str = DEFAULT_USER_AGENT
    contact: str | None = None  # a URL or e-mail address where site owners can reach you
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 5_000_000
    # Sitemaps are parsed as they stream in, so memory does not grow with them; this caps the
    # decompressed bytes read (the sitemap protocol's own limit is 50 MiB per file).
    max_sitemap_bytes: int = 100_000_000
    host_delay: float = 1.0  # minimum seconds between two requests to one host
    jitter: float = 0.1  # share of the interval added at random to each source's schedule
    max_articles_per_poll: int = 30  # article pages fetched per source and poll
    poll_timeout: float = 600.0  # seconds one poll of one source may take, every request included
    respect_robots: bool = True
    workers: int = 4  # sources polled at once (each host still sees one request at a time)
    metrics_file: Path | None = None  # Prometheus text format, for node_exporter's textfile
    hubs: tuple[str, ...] = ()  # WebSub hubs every feed declares and pings (setting ``hub``)
    s3_url: str | None = None  # ``out = "s3://bucket/prefix"``: publish there (feeder.output.s3)
    s3_endpoint_url: str | None = None  # an S3-compatible service other than AWS

    @property
    def full_user_agent(self) -> str:
        """``user_agent`` with the ``contact`` appended, as ``(+contact)``, unless already in it."""
        if self.contact and self.contact not in self.user_agent:
            return f"{self.user_agent} (+{self.contact})"
        return self.user_agent


@dataclass(frozen=True, slots=True)
class Config:
    settings: Settings
    sources: tuple[Source, ...]
    path: Path | None = None
    files: tuple[Path, ...] = field(default=())
    feeds_dir: Path = Path("feeds")  # where per-source files live (feeder probe --write)


#: The longest duration a configuration may give: longer ones are typos, and the scheduler
#: cannot represent some of them (``"99999999d"`` overflows a datetime).
MAX_DURATION = timedelta(days=30)


def parse_interval(value: Any) -> timedelta:
    """``"15m"``, ``"2h"``, ``"1h30m"``, ``"45s"``, ``"1d"`` or seconds; at most 30 days."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '15m' or '2h'")
    if isinstance(value, int | float):
        seconds: float = value
    elif isinstance(value, str) and value.strip() and (m := _INTERVAL_RE.match(value)):
        d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        seconds = d * 86400 + h * 3600 + mi * 60 + s
    else:
        raise ValueError(f"expected a duration such as '15m' or '2h', got {value!r}")
    if not math.isfinite(seconds) or seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"must be at most 30 days ('30d'), got {value!r}")
    if seconds <= 0:
        raise ValueError(f"must be positive, got {value!r}")
    return timedelta(seconds=seconds)


#: Spellings of PostgreSQL URLs people copy from elsewhere (Heroku, libpq, psql) mapped to the
#: driver feeder installs (psycopg 3); SQLAlchemy itself knows neither ``postgres://`` nor,
#: without psycopg2, a bare ``postgresql://``.
_URL_SCHEMES = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg"}


def _database_url(value: str, base: Path) -> str:
    """An SQLAlchemy URL for ``database``: a path (relative to ``base``) or a URL.

    Raises ValueError for an empty value or a URL whose driver SQLAlchemy cannot load.
    """
    if not value.strip():
        raise ValueError("must not be empty: give a path (SQLite) or a database URL")
    if "://" not in value:
        return f"sqlite:///{(base / value).resolve()}"
    scheme, rest = value.split("://", 1)
    value = f"{_URL_SCHEMES.get(scheme.lower(), scheme)}://{rest}"
    if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
        rel = value.removeprefix("sqlite:///")
        if rel and rel != ":memory:":
            value = f"sqlite:///{(base / rel).resolve()}"
    import sqlalchemy as sa

    try:
        dialect = sa.engine.make_url(value).get_dialect()
    except sa.exc.NoSuchModuleError:  # before ArgumentError, its base class
        raise ValueError(
            f"unknown database driver {scheme!r}: use a path (SQLite) or a URL such as "
            "postgresql+psycopg://user@host/db") from None
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise ValueError(f"the database driver for {scheme!r} is not installed ({exc.name}); "
                         "for PostgreSQL: pip install 'psycopg[binary]'") from None
    return value


def _check_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a URL string, got {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


def _check_hubs(value: Any) -> tuple[str, ...]:
    """``hub``: one WebSub hub URL or a list of them (each http(s), no duplicates)."""
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise ValueError("expected a hub URL or a non-empty list of hub URLs")
    hubs = tuple(_check_url(v) for v in values)
    if len(set(hubs)) != len(hubs):
        raise ValueError("the same hub is listed twice")
    return hubs


def _check_selector(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a CSS selector string")
    import soupsieve  # beautifulsoup4's selector engine

    try:
        soupsieve.compile(value)
    except Exception as exc:  # soupsieve raises SelectorSyntaxError, a ValueError subclass
        raise ValueError(f"invalid CSS selector {value!r}: {exc}".splitlines()[0]) from exc
    return value


def _check_kind(value: Any) -> str:
    if value not in KINDS:
        raise ValueError(f"expected one of {', '.join(map(repr, KINDS))}, got {value!r}")
    return str(value)


def _check_timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected an IANA timezone name such as 'Asia/Ho_Chi_Minh'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r} (expected an IANA name)") from exc
    return value


def _typed(kind: type | tuple[type, ...], label: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise ValueError(f"expected {label}, got a boolean")
        if not isinstance(value, kind):
            raise ValueError(f"expected {label}, got {type(value).__name__} {value!r}")
        return value

    return check


def _between(kind: type | tuple[type, ...], label: str, low: float, high: float, *,
             low_allowed: bool = True) -> Callable[[Any], Any]:
    """A number in ``[low, high]`` (``(low, high]`` without ``low_allowed``): NaN, infinities
    and absurd values are refused here instead of overflowing somewhere at run time."""
    typed = _typed(kind, label)

    def check(value: Any) -> Any:
        number = typed(value)
        if not math.isfinite(number):
            raise ValueError(f"expected {label}, got {value!r}")
        if number < low or (number == low and not low_allowed):
            raise ValueError(f"must be {'at least' if low_allowed else 'more than'} {low:g}, "
                             f"got {value!r}")
        if number > high:
            raise ValueError(f"must be at most {high:g}, got {value!r}")
        return value

    return check


def _positive(kind: type | tuple[type, ...], label: str, high: float) -> Callable[[Any], Any]:
    return _between(kind, label, 0, high, low_allowed=False)


def _path_text(value: Any) -> str:
    text: str = _text(value)
    if not text.strip():
        raise ValueError("must not be empty: give a path")
    return text


def _out(value: Any) -> str:
    """A folder, or an ``s3://bucket/prefix`` URL (checked here, used by feeder.output.s3)."""
    text = _path_text(value)
    if text.startswith("s3:"):
        from feeder.output.s3 import split_s3_url

        split_s3_url(text)
    return text


_text = _typed(str, "a string")
_number = (int, float)
_HOUR = 3600.0

_SETTINGS_KEYS: dict[str, Callable[[Any], Any]] = {
    "out": _out,
    "s3_endpoint_url": _check_url,
    "database": _text,
    "base_url": _check_url,
    "user_agent": _text,
    "contact": _text,
    "feeds": _path_text,
    "connect_timeout": _positive(_number, "a number of seconds", 600),
    "read_timeout": _positive(_number, "a number of seconds", 600),
    "max_bytes": _positive(int, "a number of bytes", 1_000_000_000),
    "max_sitemap_bytes": _positive(int, "a number of bytes", 1_000_000_000),
    "host_delay": _between(_number, "a number of seconds", 0, _HOUR),
    "jitter": _between(_number, "a share of the interval such as 0.1", 0, 1),
    "max_articles_per_poll": _positive(int, "a whole number", 10_000),
    "poll_timeout": _positive(_number, "a number of seconds", 86_400),
    "respect_robots": _typed(bool, "true or false"),
    "workers": _positive(int, "a whole number", 256),
    "metrics_file": _path_text,
    "hub": _check_hubs,
}

_SOURCE_KEYS: dict[str, Callable[[Any], Any]] = {
    "id": _text,
    "name": _text,
    "kind": _check_kind,
    "url": _check_url,
    "urls": _typed(list, "a list of URLs"),
    "link_selector": _check_selector,
    "timezone": _check_timezone,
    "language": _text,
    "interval": parse_interval,
    "min_interval": parse_interval,
    "max_interval": parse_interval,
    "max_items": _positive(int, "a whole number", 10_000),
    "description": _text,
    "home_url": _check_url,
}


def _validated(
    table: Mapping[str, Any], schema: Mapping[str, Callable[[Any], Any]], *, file: str,
    source: str | None, what: str,
) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"expected a table for {what}", file=file, source=source)
    out: dict[str, Any] = {}
    for key, value in table.items():
        check = schema.get(key)
        if check is None:
            known = ", ".join(sorted(schema))
            raise ConfigError(f"unknown key in {what} (known keys: {known})", file=file,
                              source=source, key=key)
        try:
            out[key] = check(value)
        except ValueError as exc:
            raise ConfigError(str(exc), file=file, source=source, key=key) from None
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(path)) from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8 (tomllib decodes before it parses)
        raise ConfigError(f"not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset "
                          f"{exc.start}; save the file as UTF-8", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from None


def _source(table: Mapping[str, Any], *, file: str, index: int) -> Source:
    raw_id = table.get("id") if isinstance(table, Mapping) else None
    label = raw_id if isinstance(raw_id, str) else None
    values = _validated(table, _SOURCE_KEYS, file=file, source=label, what="a source")
    if "id" not in values:
        raise ConfigError(f"source #{index + 1} has no id", file=file, key="id")
    sid = values["id"]
    if not _ID_RE.match(sid) or sid in _RESERVED_IDS:
        raise ConfigError(
            "an id is 1-64 lowercase letters, digits, '-' or '_' (it names the output folder)"
            + (f"; {sid!r} is reserved" if sid in _RESERVED_IDS else ""),
            file=file, source=sid, key="id")
    if "url" in values and "urls" in values:
        raise ConfigError("give either url or urls, not both", file=file, source=sid, key="urls")
    if "urls" in values:
        urls = values["urls"]
        if not urls:
            raise ConfigError("needs at least one URL", file=file, source=sid, key="urls")
        for u in urls:
            try:
                _check_url(u)
            except ValueError as exc:
                raise ConfigError(str(exc), file=file, source=sid, key="urls") from None
        urls = tuple(urls)
    elif "url" in values:
        urls = (values["url"],)
    else:
        raise ConfigError("needs a listing page (or a sitemap or feed, by kind): url or urls",
                          file=file, source=sid, key="url")
    _check_kind_keys(values, file=file, sid=sid)
    # Keys the file leaves out keep Source's own defaults, so they are written in one place.
    given = {k: v for k, v in values.items() if k not in ("id", "name", "url", "urls")}
    return Source(id=sid, name=values.get("name", sid), urls=urls, file=file, **given)


def _check_kind_keys(values: dict[str, Any], *, file: str, sid: str) -> None:
    """Keys that only make sense together: a selector for listings, one way of scheduling."""
    kind = values.get("kind", "listing")
    if "link_selector" in values and kind != "listing":
        raise ConfigError(f"link_selector applies to kind = \"listing\" only, not {kind!r}",
                          file=file, source=sid, key="link_selector")
    bounds = [k for k in ("min_interval", "max_interval") if k in values]
    if not bounds:
        return
    if "interval" in values:
        raise ConfigError("give interval (fixed) or min_interval / max_interval (adaptive), "
                          "not both", file=file, source=sid, key=bounds[0])
    low = values.setdefault("min_interval", DEFAULT_MIN_INTERVAL)
    high = values.setdefault("max_interval", max(DEFAULT_MAX_INTERVAL, low))
    if low > high:
        raise ConfigError(f"min_interval ({low}) is longer than max_interval ({high})",
                          file=file, source=sid, key="min_interval")
    values["interval"] = low  # the scheduler's tick; the policy decides which ticks poll


def _sources_in(data: Mapping[str, Any], *, file: str, whole_file_is_source: bool) -> list[Source]:
    if "sources" in data:
        tables = data["sources"]
        if not isinstance(tables, list):
            raise ConfigError("expected [[sources]] tables", file=file, key="sources")
        return [_source(t, file=file, index=i) for i, t in enumerate(tables)]
    if whole_file_is_source and data:
        return [_source(data, file=file, index=0)]
    return []


def _database_setting(value: str, base: Path, file: str) -> str:
    try:
        return _database_url(value, base)
    except ValueError as exc:
        raise ConfigError(str(exc), file=file, key="database") from None


def load(path: Path | str | None = None) -> Config:
    """Read and validate the configuration.

    ``path`` defaults to ``./feeder.toml``; when that file does not exist the defaults apply and
    only ``./feeds/*.toml`` define sources. Relative paths in the file are relative to its folder.
    """
    explicit = path is not None
    cfg_path = Path(path) if path is not None else DEFAULT_CONFIG
    if cfg_path.exists() or explicit:
        data = _read_toml(cfg_path)
        base = cfg_path.resolve().parent
    else:
        data, base = {}, Path.cwd()
    file = str(cfg_path)

    unknown = set(data) - {"feeder", "sources"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError("unknown top-level key (expected [feeder] and [[sources]])",
                          file=file, key=key)
    values = _validated(data.get("feeder", {}), _SETTINGS_KEYS, file=file, source=None,
                        what="[feeder]")
    feeds_dir = base / values.pop("feeds", "feeds")
    if "hub" in values:
        values["hubs"] = values.pop("hub")
    if "metrics_file" in values:
        values["metrics_file"] = (base / values["metrics_file"]).resolve()
    out = values.pop("out", "public")
    if out.startswith("s3:"):  # objects there; the local folder keeps only private state
        values["s3_url"], out = out, "public"
    settings = Settings(
        out=(base / out).resolve(),
        database=_database_setting(values.pop("database", "var/feeder.db"), base, file),
        **values,
    )
    if not settings.base_url.endswith("/"):  # self links are joined onto it
        settings = replace(settings, base_url=settings.base_url + "/")

    sources = _sources_in(data, file=file, whole_file_is_source=False)
    files = [cfg_path] if data else []
    if feeds_dir.is_dir():
        for feed_file in sorted(feeds_dir.glob("*.toml")):
            sources += _sources_in(_read_toml(feed_file), file=str(feed_file),
                                   whole_file_is_source=True)
            files.append(feed_file)

    seen: dict[str, Source] = {}
    for s in sources:
        if s.id in seen:
            raise ConfigError(f"duplicate source id (also defined in {seen[s.id].file})",
                              file=s.file, source=s.id, key="id")
        seen[s.id] = s
    return Config(settings=settings, sources=tuple(sources), path=cfg_path, files=tuple(files),
                  feeds_dir=feeds_dir)


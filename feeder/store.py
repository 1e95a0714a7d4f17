"""The store: articles, per-URL HTTP caching state and per-source polling state.

SQLAlchemy Core 2.x. SQLite (WAL) is the default; the same code runs on PostgreSQL through the
``database`` URL (``postgresql+psycopg://...``). Uniqueness lives in the database: an article is
unique on ``(source, article_id)``, ``article_id`` being derived from its canonical URL, so a poll
that runs twice (or on two workers) cannot add an article twice.

Many writers (threads, processes, machines) may share one database. Every write is an upsert
(``INSERT ... ON CONFLICT``) or runs under an explicit lock: on SQLite every write transaction
starts with ``BEGIN IMMEDIATE`` (the database's one write lock, taken up front, so a read made in
the transaction is still true when it writes); on PostgreSQL a read that a write depends on locks
its row (``SELECT ... FOR UPDATE``) after an ``INSERT ... ON CONFLICT DO NOTHING`` made sure the
row exists. Pages and articles are keyed per source: an article listed by two sources (two
sections of one paper) is stored, and published, once for each.

Feeds carry versions (table ``feeds``): ``content_version`` is bumped in the same transaction as
any change to a feed's articles, ``written_version`` is set once the feed's files are written.
A feed whose files are behind its store is rebuilt, whatever happened in between (see
:meth:`Store.claim_feed`).

Migrations are versioned (``feeder_meta.schema_version``) and run once, under a lock, however
many processes start together.

All times are stored as naive UTC and come back aware (UTC); article times keep their own offset
inside the JSON record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from feeder import clock
from feeder.errors import StoreError
from feeder.model import Article, CacheInfo, SourceHealth

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
#: How many warnings of a poll are kept, and how long each may be (a hostile page's text can be
#: part of one).
MAX_WARNINGS = 5
MAX_WARNING = 300

#: The ``feeds`` row of the site files (combined feed, index, OPML, status). Source ids start
#: with a letter or digit (feeder.config), so this never names a source.
SITE_FEED = "_site"
# How a lead-only article's record says so (Article.to_dict(): provenance "content"); read only
# by the schema 4 migration.
LEAD_ONLY_MARK = '"content": "lead-only"'

# A known article is fetched again to look for edits this long after it was first seen; after the
# last step it is left alone. Decaying, because news pages are edited mostly in their first hours.
RECHECK_AFTER: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))
# A page that failed this many times in a row is given up.
PAGE_GIVE_UP = 5


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database (portable)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime given to the store: {value!r}")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = sa.MetaData()

meta_table = sa.Table(
    "feeder_meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(255), nullable=False),
)

articles = sa.Table(
    "articles", metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("article_id", sa.String(36), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("sort_time", UTCDateTime, nullable=False),  # published, else first seen
    sa.Column("newest_date", UTCDateTime),  # the later of published and updated
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_changed", UTCDateTime, nullable=False),
    sa.Column("record", sa.Text, nullable=False),  # Article.to_dict() as JSON
    # Published with its lead only (feeder/extract/body.py); schema 4. A column, so that a
    # source's health counts these from an index instead of reading every record.
    sa.Column("lead_only", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("source", "article_id", name="uq_articles_source_article"),
)
sa.Index("ix_articles_source_sort", articles.c.source, articles.c.sort_time)
# A source's item and lead-only counts (health, on every poll): an index-only scan.
ix_articles_source_lead = sa.Index("ix_articles_source_lead", articles.c.source,
                                   articles.c.lead_only)

pages = sa.Table(
    "pages", metadata,
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # listing | article
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("first_seen", UTCDateTime, nullable=False),
    sa.Column("last_fetched", UTCDateTime),
    sa.Column("next_check", UTCDateTime),  # None: never again (articles past their last recheck)
    sa.Column("checks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),  # in a row
    sa.Column("article_id", sa.String(36)),
    # Per source: the same URL listed by two sources is two pages (schema 2; was url alone).
    sa.PrimaryKeyConstraint("source", "url", name="pk_pages_source_url"),
)

sources = sa.Table(
    "sources", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("last_poll", UTCDateTime),
    sa.Column("last_success", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("empty_polls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_due", UTCDateTime),
)


robots = sa.Table(
    "robots", metadata,
    sa.Column("origin", sa.String(255), primary_key=True),  # scheme://host[:port]
    sa.Column("body", sa.Text),  # None: no robots.txt (allow all)
    sa.Column("fetched_at", UTCDateTime, nullable=False),
)

feeds = sa.Table(
    "feeds", metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # a source id, or SITE_FEED
    # Bumped in the transaction that changes the feed's articles.
    sa.Column("content_version", sa.BigInteger, nullable=False, server_default="0"),
    # The content_version the files were last built from (None: never built).
    sa.Column("written_version", sa.BigInteger),
    sa.Column("content_hash", sa.String(64)),  # content_digest() of the articles last written
    sa.Column("written_at", UTCDateTime),
    # A hash of the configuration the files were built with (schema 3): a renamed source or a
    # new max_items rebuilds the feed although no article changed.
    sa.Column("built_with", sa.String(64)),
)

# WebSub publish notifications still to send (feeder.publish.websub): a persisted outbox, one row
# per hub and feed URL, so a change is announced even across a restart, and coalesced when the
# feed changes again before the hub was told.
websub_pings = sa.Table(
    "websub_pings", metadata,
    sa.Column("hub", sa.String(1000), primary_key=True),
    sa.Column("topic", sa.String(1000), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # pending | sent | failed (gave up)
    sa.Column("changed_at", UTCDateTime, nullable=False),  # when the feed last changed
    sa.Column("due_at", UTCDateTime),  # next attempt (pending only)
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),  # since the change
    sa.Column("last_attempt", UTCDateTime),
    sa.Column("last_error", sa.Text),
)

# Poll outcomes per source and day (the day in the source's own zone, "YYYY-MM-DD"), for the
# index page's charts (feeder.publish.chart): a row per source and day, however often it polls.
# The warnings of each source's last poll ("... moved permanently to ...", a deadline reached),
# for `feeder status`: a long-running `feeder run` otherwise shows them only in its log.
poll_warnings = sa.Table(
    "poll_warnings", metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),  # one warning a line
    sa.Column("at", UTCDateTime, nullable=False),
)

poll_days = sa.Table(
    "poll_days", metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("polls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
)


@dataclass(frozen=True, slots=True)
class HubPing:
    """One row of the WebSub outbox: tell ``hub`` that the feed at ``topic`` changed."""

    hub: str
    topic: str
    state: str
    changed_at: datetime
    attempts: int = 0
    due_at: datetime | None = None
    last_attempt: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class ArchivedRow:
    """An article that has left its source's feed, without its record (feeder.publish.archive)."""

    pk: int
    sort_time: datetime
    last_changed: datetime
    content_hash: str


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """What the store knows of an article already seen."""

    article: Article
    content_hash: str
    first_seen: datetime
    last_changed: datetime


@dataclass(frozen=True, slots=True)
class Intent:
    """What a poll wants the store to do with one fetched article (see :func:`decide`)."""

    action: str  # "new" | "updated" | "unchanged"
    article: Article
    fetched_url: str
    cache: CacheInfo = field(default_factory=CacheInfo)


def decide(article: Article, stored: StoredArticle | None, now: datetime) -> Intent:
    """New, updated or unchanged? Pure: no I/O.

    A page without a published time gets the time it was first seen, so that it sorts and dates
    sensibly; an edit without a visible "updated" time gets the time the edit was noticed.
    """
    if stored is None:
        if article.published is None and article.updated is None:
            article = replace(article, published=now,
                              provenance={**article.provenance, "published": "first-seen"})
        return Intent("new", article, article.url)
    if article.published is None or article.provenance.get("published") == "updated-only":
        # A page that prints only its update time: the first time we stored stays its
        # publication time, so a bumped "Last updated" is not an edit.
        article = replace(article, published=stored.article.published,
                          provenance={**article.provenance,
                                      "published": stored.article.provenance.get(
                                          "published", "stored")})
    if article.content_hash == stored.content_hash:
        return Intent("unchanged", article, article.url)
    if article.updated is None or (stored.article.updated and
                                   article.updated <= stored.article.updated):
        article = replace(article, updated=now,
                          provenance={**article.provenance, "updated": "edit-detected"})
    return Intent("updated", article, article.url)


def database_url(value: str | Path) -> str:
    """A path becomes an SQLite URL; a URL is kept."""
    value = str(value)
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


#: Database failures that are the environment's, not feeder's: a lost connection, a locked or
#: full database. Only these become StoreError; an IntegrityError or a ProgrammingError is a bug
#: and goes up as it is.
_ENVIRONMENT_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
#: Tries to open a fresh SQLite file that other processes open at the same moment (~10 s in all).
_OPEN_ATTEMPTS = 20

# Any 64-bit number, the same in every feeder process: the PostgreSQL advisory lock that
# serialises migrations.
_MIGRATION_LOCK = 0x66656564_65720001


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed's versions as read under its build lock (see :meth:`Store.claim_feed`)."""

    feed: str
    content_version: int
    written_version: int | None
    content_hash: str | None
    built_with: str | None = None

    @property
    def behind(self) -> bool:
        """The files were never built, or were built from an older view than the store's."""
        return self.written_version is None or self.written_version < self.content_version

    def stale(self, built_with: str) -> bool:
        """The files are behind the store, or were built with another configuration."""
        return self.behind or self.built_with != built_with


class FeedClaim:
    """The build lock on one feed, held until the ``with`` block of :meth:`Store.claim_feed`
    ends. :meth:`written` records, in the same transaction, what the files were built from."""

    def __init__(self, conn: Connection, state: FeedState) -> None:
        self._conn = conn
        self.state = state

    def newer_than(self, seen: FeedState, built_with: str | None = None) -> bool:
        """The files already show a newer view than ``seen`` (a state read before the view was
        built): writing it now would replace newer bytes with older ones."""
        written = self.state.written_version
        return (written is not None and written > seen.content_version
                and self.state.built_with == built_with)

    def written(self, content_hash: str, built_with: str | None = None, *,
                version: int | None = None) -> None:
        """Record that the files now show ``version`` (default: the version read under the
        lock; a view built before the lock passes the version read before building it)."""
        self._conn.execute(feeds.update().where(feeds.c.id == self.state.feed).values(
            written_version=self.state.content_version if version is None else version,
            content_hash=content_hash, written_at=clock.now(), built_with=built_with))


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL (None for other databases and for ``:memory:``)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


class Store:
    """The one gateway to the database. Safe to share between threads and between processes."""

    def __init__(self, url: str | Path) -> None:
        self.url = database_url(url)
        self.engine = self._engine(self.url)
        self.is_postgresql = self.engine.dialect.name == "postgresql"
        self._write_queue = threading.RLock()
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                self._migrate()
                break
            except _ENVIRONMENT_ERRORS as exc:
                # Several processes opening one fresh SQLite file: switching it to WAL and the
                # first schema write can answer "database is locked" at once, without waiting
                # for the busy timeout. Such a race passes; any other failure is reported.
                if (self.is_postgresql or "locked" not in str(exc)
                        or attempt == _OPEN_ATTEMPTS - 1):
                    raise StoreError(f"cannot open the database {self._safe_url}: {exc}") from exc
                self.engine.dispose()
                time.sleep(0.05 * (attempt + 1))

    @property
    def _safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @staticmethod
    def _engine(url: str) -> Engine:
        if url.startswith("sqlite"):
            if (path := sqlite_file(url)) is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"timeout": 30})

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                # The driver must not open transactions by itself (it would start them only at
                # the first write, after the reads): feeder's "begin" below does.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA busy_timeout=30000")  # first: the next one may wait
                # WAL: readers never block the writer, and a kill -9 loses at most the
                # transaction in flight. NORMAL sync is durable across process crashes.
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            @sa.event.listens_for(engine, "begin")
            def _begin(conn: Connection) -> None:
                # A write transaction takes the write lock at once (IMMEDIATE): one that read
                # first and upgraded later could fail with "database is locked" without
                # waiting, and what it read could be stale by the time it writes.
                mode = "IMMEDIATE" if conn.get_execution_options().get("feeder_write") else ""
                conn.exec_driver_sql(f"BEGIN {mode}".strip())

            return engine
        return sa.create_engine(url, pool_pre_ping=True)

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION, once, whoever else is starting right now.

        The whole migration is one transaction under a lock that every starting process takes
        (PostgreSQL: an advisory lock released at commit; SQLite: the write lock): the second
        process waits, then finds the schema current.
        """
        with self._tx(write=True, wrap=False) as conn:
            if self.is_postgresql:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            meta_table.create(conn, checkfirst=True)
            row = conn.execute(sa.select(meta_table.c.value)
                               .where(meta_table.c.key == "schema_version")).first()
            version = int(row[0]) if row else None
            if version is not None and version > SCHEMA_VERSION:
                raise StoreError(f"database schema {version} is newer than this feeder "
                                 f"({SCHEMA_VERSION}); upgrade feeder")
            if version is not None:
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    log.info("store.migrate to=%d", step)
                    _MIGRATIONS[step](conn)
            # New tables (also those of a newer module on an older database) appear here.
            metadata.create_all(conn)
            if version is None:
                conn.execute(meta_table.insert().values(key="schema_version",
                                                        value=str(SCHEMA_VERSION)))
            elif version < SCHEMA_VERSION:
                conn.execute(meta_table.update().where(meta_table.c.key == "schema_version")
                             .values(value=str(SCHEMA_VERSION)))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self, *, write: bool = False, wrap: bool = True) -> Iterator[Connection]:
        """One transaction. ``write``: it writes (SQLite takes the write lock up front).

        Only environment failures become StoreError (see _ENVIRONMENT_ERRORS).
        """
        # SQLite has one writer at a time. Threads of this process queue for it here, where
        # the next one goes as soon as the lock is free; SQLite's own busy handler would have
        # them sleep and poll (up to 100 ms a try). Other processes still meet the busy handler.
        queue = self._write_queue if write and not self.is_postgresql else contextlib.nullcontext()
        try:
            with queue, self.engine.connect() as conn:
                if write:
                    conn.execution_options(feeder_write=True)
                with conn.begin():
                    yield conn
        except _ENVIRONMENT_ERRORS as exc:
            if not wrap:
                raise
            raise StoreError(f"database error: {exc}") from exc

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which has ``on_conflict_do_nothing`` / ``_do_update``."""
        from sqlalchemy.dialects import postgresql, sqlite

        return (postgresql if self.is_postgresql else sqlite).insert(table)

    def _locked_row(self, conn: Connection, table: sa.Table, key: Mapping[str, Any],
                    defaults: Mapping[str, Any]) -> Any:
        """The row of ``table`` with primary key ``key``, created from ``defaults`` if missing,
        and locked until the transaction ends (SQLite: already, by BEGIN IMMEDIATE)."""
        conn.execute(self._insert(table).values(**key, **defaults)
                     .on_conflict_do_nothing(index_elements=list(key)))
        where = [table.c[name] == value for name, value in key.items()]
        return conn.execute(sa.select(table).where(*where).with_for_update()).one()

    # -- HTTP caching state ---------------------------------------------------------------

    def cache_for(self, source: str, url: str) -> CacheInfo:
        with self._tx() as conn:
            row = conn.execute(sa.select(pages.c.etag, pages.c.last_modified)
                               .where(pages.c.source == source, pages.c.url == url)).first()
        return CacheInfo(row.etag, row.last_modified) if row else CacheInfo()

    def links_to_fetch(self, source: str, urls: Sequence[str], now: datetime) -> list[str]:
        """Of ``urls`` (in order), those never fetched for this source or due for an edit check;
        then other known articles of the source whose edit check is due although they left the
        listing. Another source having fetched a URL does not count: each source has its own."""
        with self._tx() as conn:
            known: dict[str, datetime | None] = {}
            for chunk in _chunks(list(urls), 500):
                for row in conn.execute(sa.select(pages.c.url, pages.c.next_check)
                                        .where(pages.c.source == source,
                                               pages.c.url.in_(chunk))):
                    known[row.url] = row.next_check
            due_elsewhere = [row.url for row in conn.execute(
                sa.select(pages.c.url).where(pages.c.source == source, pages.c.kind == "article",
                                             pages.c.next_check <= now)
                .order_by(pages.c.next_check))]
        wanted = [u for u in urls
                  if u not in known or ((due := known[u]) is not None and due <= now)]
        return list(dict.fromkeys(wanted + due_elsewhere))

    def publication_history(self, source: str, since: datetime,
                            limit: int = 500) -> list[datetime]:
        """When the source's newest items (at most ``limit``) were published since ``since``,
        oldest first: their publication time, never later than when feeder first saw them.
        What adaptive polling learns a source's cadence from (feeder.policy)."""
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(articles.c.sort_time, articles.c.first_seen)
                .where(articles.c.source == source, articles.c.sort_time >= since)
                .order_by(articles.c.sort_time.desc()).limit(limit)).all()
        return sorted(min(r.sort_time, r.first_seen) for r in rows)

    def latest_article_urls(self, source: str, limit: int = 100) -> tuple[list[str], list[str]]:
        """The URLs of the source's newest ``limit`` article pages, split into those first seen
        by the latest poll that found any and those seen before (feeder.policy.shape_changed)."""
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(pages.c.url, pages.c.first_seen)
                .where(pages.c.source == source, pages.c.kind == "article",
                       pages.c.article_id.is_not(None))
                .order_by(pages.c.first_seen.desc()).limit(limit)).all()
        if not rows:
            return [], []
        latest = rows[0].first_seen
        return ([r.url for r in rows if r.first_seen == latest],
                [r.url for r in rows if r.first_seen != latest])

    def watched_since(self, source: str) -> datetime | None:
        """When one of the source's listing pages (or sitemaps, or feeds) was first stored."""
        with self._tx() as conn:
            return conn.execute(sa.select(sa.func.min(pages.c.first_seen))
                                .where(pages.c.source == source, pages.c.kind == "listing")
                                ).scalar_one_or_none()

    def last_fetched(self, source: str, urls: Sequence[str]) -> dict[str, datetime | None]:
        """When ``source`` last fetched each URL of ``urls`` it knows (``None``: never
        successfully); unknown URLs are left out."""
        out: dict[str, datetime | None] = {}
        with self._tx() as conn:
            for chunk in _chunks(list(urls), 500):
                for row in conn.execute(sa.select(pages.c.url, pages.c.last_fetched)
                                        .where(pages.c.source == source,
                                               pages.c.url.in_(chunk))):
                    out[row.url] = row.last_fetched
        return out

    # -- articles ---------------------------------------------------------------------------

    def stored(self, source: str, article_id: str) -> StoredArticle | None:
        with self._tx() as conn:
            row = conn.execute(sa.select(articles).where(articles.c.source == source,
                                                         articles.c.article_id == article_id)
                               ).first()
        return _stored(row) if row else None

    def apply(self, source: str, intents: Iterable[Intent],
              not_modified: Iterable[tuple[str, CacheInfo]] = (),
              listings: Iterable[tuple[str, CacheInfo]] = ()) -> dict[str, int]:
        """Write one poll's outcome for one source in one transaction; returns counts.

        ``not_modified`` are article pages that answered 304; ``listings`` the listing pages'
        new validators, saved with the articles they led to. When an article was added or
        changed, the source's feed and the site get a new content version in the same
        transaction, so a crash before publishing cannot leave the files behind unnoticed.
        """
        now = clock.now()
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        with self._tx(write=True) as conn:
            for intent in intents:
                a = intent.article
                counts[intent.action] += 1
                if intent.action == "new":
                    # Insert, unless another run or worker got there first: the unique key
                    # decides, in the database (ON CONFLICT DO NOTHING), not a prior SELECT.
                    inserted = conn.execute(self._insert(articles).values(
                        source=source, article_id=a.id, first_seen=now, **_article_row(a, now))
                        .on_conflict_do_nothing(index_elements=["source", "article_id"])
                        .returning(articles.c.pk)).first()
                    if inserted is None:  # (rowcount is -1 here on some drivers)
                        counts["new"] -= 1
                        counts["unchanged"] += 1
                elif intent.action == "updated":
                    conn.execute(articles.update().where(
                        articles.c.source == source, articles.c.article_id == a.id)
                        .values(**_article_row(a, now)))
                self._mark_article_page(conn, source, intent.fetched_url, intent.cache, a.id, now)
                if a.url != intent.fetched_url:
                    self._mark_article_page(conn, source, a.url, CacheInfo(), a.id, now)
            for url, cache in not_modified:
                self._mark_article_page(conn, source, url, cache, None, now)
            for url, cache in listings:
                values = {"etag": cache.etag, "last_modified": cache.last_modified,
                          "last_fetched": now, "next_check": None, "failures": 0}
                conn.execute(self._insert(pages).values(
                    source=source, url=url, kind="listing", first_seen=now, checks=0, **values)
                    .on_conflict_do_update(index_elements=["source", "url"], set_=values))
            if counts["new"] or counts["updated"]:
                # Last, so that the feed rows are locked (PostgreSQL) for the shortest time.
                self._bump_feeds(conn, (source, SITE_FEED))
        return counts

    def _bump_feeds(self, conn: Connection, ids: Iterable[str]) -> None:
        for feed in ids:
            conn.execute(self._insert(feeds).values(id=feed, content_version=1)
                         .on_conflict_do_update(index_elements=["id"], set_={
                             "content_version": feeds.c.content_version + 1}))

    def _mark_article_page(self, conn: Connection, source: str, url: str, cache: CacheInfo,
                           article_id: str | None, now: datetime) -> None:
        row = self._locked_row(conn, pages, {"source": source, "url": url},
                               {"kind": "article", "first_seen": now, "checks": -1})
        # checks -1: the row was created just now; the first fetch is no edit check.
        checks = row.checks + 1
        values: dict[str, Any] = {
            "kind": "article", "etag": cache.etag, "last_modified": cache.last_modified,
            "last_fetched": now, "next_check": next_check(row.first_seen, checks, now),
            "failures": 0, "checks": checks}
        if article_id:
            values["article_id"] = article_id
        conn.execute(pages.update().where(pages.c.source == source, pages.c.url == url)
                     .values(**values))

    def record_page_failure(self, source: str, url: str, now: datetime, retry_in: timedelta,
                            *, permanent: bool = False) -> datetime | None:
        """A page that could not be fetched or extracted: retry later, with backoff.

        After ``PAGE_GIVE_UP`` failures in a row, or a permanent one (404, 410, no article in
        the page), the page is not fetched again. Returns when it will be tried next.
        """
        with self._tx(write=True) as conn:
            row = self._locked_row(conn, pages, {"source": source, "url": url},
                                   {"kind": "article", "first_seen": now, "checks": 0})
            failures = row.failures + 1
            retry = None if permanent or failures >= PAGE_GIVE_UP else (
                now + retry_in * 2 ** (failures - 1))
            conn.execute(pages.update().where(pages.c.source == source, pages.c.url == url)
                         .values(next_check=retry, failures=failures))
        return retry

    def articles_for(self, source: str, limit: int) -> tuple[Article, ...]:
        """The newest ``limit`` articles of a source, newest first."""
        with self._tx() as conn:
            rows = conn.execute(sa.select(articles.c.record).where(articles.c.source == source)
                                .order_by(articles.c.sort_time.desc(), articles.c.pk.desc())
                                .limit(limit)).all()
        return tuple(Article.from_dict(json.loads(r.record)) for r in rows)

    def feed_window(self, max_items: Mapping[str, int], combined: int
                    ) -> tuple[dict[str, tuple[int, datetime | None]], list[Article]]:
        """What the site files need, without loading every feed: per source the size and newest
        date of its feed (its newest ``max_items[source]`` articles), and the ``combined`` newest
        articles among those feeds, newest first.
        """
        if not max_items:
            return {}, []
        ranked = sa.select(
            articles.c.pk, articles.c.source, articles.c.sort_time, articles.c.newest_date,
            sa.func.row_number().over(
                partition_by=articles.c.source,
                order_by=(articles.c.sort_time.desc(), articles.c.pk.desc())).label("rank"),
        ).where(articles.c.source.in_(list(max_items))).subquery()
        with self._tx() as conn:
            rows = conn.execute(sa.select(ranked).where(
                ranked.c.rank <= max(max_items.values()))).all()
            rows = [r for r in rows if r.rank <= max_items[r.source]]
            summary: dict[str, tuple[int, datetime | None]] = {}
            for r in rows:
                count, newest = summary.get(r.source, (0, None))
                if r.newest_date and (newest is None or r.newest_date > newest):
                    newest = r.newest_date
                summary[r.source] = (count + 1, newest)
            top = sorted(rows, key=lambda r: (r.sort_time, r.pk), reverse=True)[:combined]
            records = {r.pk: r.record for r in conn.execute(
                sa.select(articles.c.pk, articles.c.record)
                .where(articles.c.pk.in_([r.pk for r in top])))}
        return summary, [Article.from_dict(json.loads(records[r.pk])) for r in top]

    def archived_rows(self, source: str, skip: int) -> list[ArchivedRow]:
        """The source's articles after its newest ``skip`` (those that left its feed, in the
        order of :meth:`articles_for`), without their records: for feeder.publish.archive."""
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(articles.c.pk, articles.c.sort_time, articles.c.last_changed,
                          articles.c.content_hash)
                .where(articles.c.source == source)
                .order_by(articles.c.sort_time.desc(), articles.c.pk.desc())
                .offset(skip)).all()
        return [ArchivedRow(r.pk, r.sort_time, r.last_changed, r.content_hash) for r in rows]

    def articles_by_pk(self, pks: Sequence[int]) -> dict[int, Article]:
        """Stored articles by primary key (the ones that exist)."""
        out: dict[int, Article] = {}
        with self._tx() as conn:
            for chunk in _chunks(list(pks), 500):
                for r in conn.execute(sa.select(articles.c.pk, articles.c.record)
                                      .where(articles.c.pk.in_(chunk))):
                    out[r.pk] = Article.from_dict(json.loads(r.record))
        return out

    def count_articles(self, source: str) -> int:
        with self._tx() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(articles)
                                .where(articles.c.source == source)).scalar_one()

    # -- feed versions ------------------------------------------------------------------------

    def feed_state(self, feed: str) -> FeedState:
        """A feed's versions, without a lock (to decide cheaply whether a build is needed)."""
        with self._tx() as conn:
            row = conn.execute(sa.select(feeds).where(feeds.c.id == feed)).first()
        return _feed_state(feed, row)

    @contextmanager
    def claim_feed(self, feed: str) -> Iterator[FeedClaim]:
        """Hold ``feed``'s build lock for the ``with`` block: one builder per feed at a time.

        The lock is the feed's row (PostgreSQL: ``SELECT ... FOR UPDATE``; SQLite: the write
        lock of ``BEGIN IMMEDIATE``). A change to the feed's articles bumps that row in its own
        transaction, so it waits for the build to end: the articles read inside the block are
        exactly ``claim.state.content_version``. Build, write, then call ``claim.written(hash)``
        in the block; comparing versions under the lock is what keeps an older view from ever
        replacing newer bytes.
        """
        with self._tx(write=True) as conn:
            row = self._locked_row(conn, feeds, {"id": feed}, {"content_version": 0})
            yield FeedClaim(conn, _feed_state(feed, row))

    # -- source state ---------------------------------------------------------------------

    def health(self, source: str) -> SourceHealth:
        return self.healths([source])[source]

    def healths(self, ids: Sequence[str]) -> dict[str, SourceHealth]:
        """Each source's health, in two queries whatever the number of sources."""
        with self._tx() as conn:
            rows = {r.id: r for r in conn.execute(sa.select(sources)
                                                  .where(sources.c.id.in_(list(ids))))}
            # Items, and those published with their lead only, in one pass over an index.
            is_lead_only = sa.case((articles.c.lead_only, 1), else_=0)
            counts: dict[str, int] = {}
            lead_only: dict[str, int] = {}
            for source, n, lead in conn.execute(
                    sa.select(articles.c.source, sa.func.count(), sa.func.sum(is_lead_only))
                    .where(articles.c.source.in_(list(ids))).group_by(articles.c.source)):
                counts[source], lead_only[source] = n, int(lead or 0)
        out: dict[str, SourceHealth] = {}
        for sid in ids:
            row, count = rows.get(sid), counts.get(sid, 0)
            out[sid] = SourceHealth(source=sid, item_count=count, lead_only=lead_only.get(sid, 0)) \
                if row is None else SourceHealth(
                source=sid, last_poll=row.last_poll, last_success=row.last_success,
                last_error=row.last_error, consecutive_failures=row.consecutive_failures,
                next_due=row.next_due, item_count=count, empty_polls=row.empty_polls,
                lead_only=lead_only.get(sid, 0))
        return out

    def record_poll(self, source: str, *, ok: bool, error: str | None, found_links: bool,
                    next_due: datetime, now: datetime | None = None) -> SourceHealth:
        """Write a poll's outcome; failures and empty listings are counted in a row.

        One upsert whose counters are computed from the stored row by the database, so two
        writers recording polls of one source at once both count.
        """
        now = now or clock.now()
        values: dict[str, Any] = {"last_poll": now, "next_due": next_due}
        if ok:
            values.update(last_success=now, last_error=None, consecutive_failures=0)
            # Empty listings count only on polls that reached the listing.
            empty = 0 if found_links else sources.c.empty_polls + 1
        else:
            values.update(last_error=error, consecutive_failures=sources.c.consecutive_failures + 1)
            empty = sources.c.empty_polls  # a failure keeps the count
        first = {**values, "consecutive_failures": 0 if ok else 1,
                 "empty_polls": 0 if (found_links or not ok) else 1}
        with self._tx(write=True) as conn:
            conn.execute(self._insert(sources).values(id=source, **first).on_conflict_do_update(
                index_elements=["id"], set_={**values, "empty_polls": empty}))
        return self.health(source)

    def failures_in_a_row(self, source: str) -> int:
        """The source's failed polls since its last success (0 for a new source)."""
        with self._tx() as conn:
            return conn.execute(sa.select(sources.c.consecutive_failures)
                                .where(sources.c.id == source)).scalar_one_or_none() or 0

    def next_due(self, source: str) -> datetime | None:
        with self._tx() as conn:
            return conn.execute(sa.select(sources.c.next_due)
                                .where(sources.c.id == source)).scalar_one_or_none()

    # -- robots.txt (feeder.fetch.RobotsCache) ---------------------------------------------

    def get_robots(self, origin: str) -> tuple[str | None, datetime] | None:
        with self._tx() as conn:
            row = conn.execute(sa.select(robots.c.body, robots.c.fetched_at)
                               .where(robots.c.origin == origin)).first()
        return (row.body, row.fetched_at) if row else None

    def put_robots(self, origin: str, body: str | None, fetched_at: datetime) -> None:
        values = {"body": body, "fetched_at": fetched_at}
        with self._tx(write=True) as conn:
            conn.execute(self._insert(robots).values(origin=origin, **values)
                         .on_conflict_do_update(index_elements=["origin"], set_=values))

    # -- activity per day (feeder.publish.chart) -----------------------------------------

    def record_warnings(self, source: str, warnings: Sequence[str], now: datetime) -> None:
        """Keep the warnings of the source's latest poll (none: forget the earlier ones)."""
        lines = [" ".join(w.split())[:MAX_WARNING] for w in warnings[:MAX_WARNINGS]]
        with self._tx(write=True) as conn:
            if not lines:
                conn.execute(poll_warnings.delete().where(poll_warnings.c.source == source))
                return
            text = "\n".join(lines)
            conn.execute(self._insert(poll_warnings).values(source=source, text=text, at=now)
                         .on_conflict_do_update(index_elements=["source"],
                                                set_={"text": text, "at": now}))

    def last_warnings(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """The warnings of each source's latest poll, for ``feeder status``."""
        with self._tx() as conn:
            rows = conn.execute(sa.select(poll_warnings.c.source, poll_warnings.c.text)
                                .where(poll_warnings.c.source.in_(list(ids)))).all()
        return {row.source: row.text.split("\n") for row in rows}

    def count_poll(self, source: str, day: str, *, ok: bool) -> None:
        """Count one poll (and its failure) on ``day`` ("YYYY-MM-DD" in the source's zone)."""
        failed = 0 if ok else 1
        stmt = self._insert(poll_days).values(source=source, day=day, polls=1, failures=failed)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "day"],
            set_={"polls": poll_days.c.polls + 1, "failures": poll_days.c.failures + failed})
        with self._tx(write=True) as conn:
            conn.execute(stmt)

    def activity(self, ids: Sequence[str], days: int, recent: int
                 ) -> tuple[dict[str, dict[str, int]], dict[str, list[datetime]]]:
        """For each source: failed polls per day over its last ``days`` days of polling (every
        day it polled, failures or not), and the dates of its articles in that window plus its
        ``recent`` newest ones. The window ends on the source's last polled day: the answer
        depends on the data only, never on the clock."""
        if not ids:
            return {}, {}
        with self._tx() as conn:
            last = dict(conn.execute(sa.select(poll_days.c.source, sa.func.max(poll_days.c.day))
                                     .where(poll_days.c.source.in_(list(ids)))
                                     .group_by(poll_days.c.source)).all())
            starts = {sid: (datetime.fromisoformat(day) - timedelta(days=days - 1)).date()
                      for sid, day in last.items()}
            failures: dict[str, dict[str, int]] = {sid: {} for sid in ids}
            since_day = min(starts.values()).isoformat() if starts else None
            if since_day:
                for r in conn.execute(sa.select(poll_days).where(
                        poll_days.c.source.in_(list(last)), poll_days.c.day >= since_day)):
                    if r.day >= starts[r.source].isoformat():
                        failures[r.source][r.day] = r.failures
            dates: dict[str, set[datetime]] = {sid: set() for sid in ids}
            if since_day:
                # A day early: a source's day may start before midnight UTC.
                since = datetime.fromisoformat(since_day).replace(tzinfo=UTC) - timedelta(days=1)
                for r in conn.execute(sa.select(articles.c.source, articles.c.sort_time).where(
                        articles.c.source.in_(list(last)), articles.c.sort_time >= since)):
                    dates[r.source].add(r.sort_time)
            ranked = sa.select(
                articles.c.source, articles.c.sort_time,
                sa.func.row_number().over(partition_by=articles.c.source,
                                          order_by=articles.c.sort_time.desc()).label("rank"),
            ).where(articles.c.source.in_(list(ids))).subquery()
            for r in conn.execute(sa.select(ranked.c.source, ranked.c.sort_time)
                                  .where(ranked.c.rank <= recent)):
                dates[r.source].add(r.sort_time)
        return failures, {sid: sorted(d) for sid, d in dates.items()}

    # -- WebSub outbox (feeder.publish.websub) -------------------------------------------

    def queue_pings(self, pairs: Iterable[tuple[str, str]], now: datetime) -> int:
        """Queue a publish notification per ``(hub, topic)``; one already pending is kept as it
        is (with its backoff), so a burst of changes costs one ping. Returns how many rows."""
        n = 0
        pending = websub_pings.c.state == "pending"
        with self._tx(write=True) as conn:
            for hub, topic in pairs:
                n += 1
                # One upsert: a pending row keeps its backoff, any other starts afresh.
                fresh = {"state": "pending", "changed_at": now, "due_at": now, "attempts": 0}
                conn.execute(self._insert(websub_pings).values(hub=hub, topic=topic, **fresh)
                             .on_conflict_do_update(index_elements=["hub", "topic"], set_={
                                 "state": "pending", "changed_at": now,
                                 "due_at": sa.case((pending, websub_pings.c.due_at), else_=now),
                                 "attempts": sa.case((pending, websub_pings.c.attempts),
                                                     else_=0)}))
        return n

    def due_pings(self, now: datetime, limit: int = 100) -> list[HubPing]:
        """Pending notifications whose attempt is due, oldest first."""
        with self._tx() as conn:
            rows = conn.execute(sa.select(websub_pings).where(
                websub_pings.c.state == "pending", websub_pings.c.due_at <= now)
                .order_by(websub_pings.c.due_at).limit(limit)).all()
        return [HubPing(**r._mapping) for r in rows]

    def next_ping_due(self) -> datetime | None:
        with self._tx() as conn:
            return conn.execute(sa.select(sa.func.min(websub_pings.c.due_at)).where(
                websub_pings.c.state == "pending")).scalar_one_or_none()

    def record_ping(self, ping: HubPing, now: datetime, error: str | None,
                    retry_at: datetime | None) -> None:
        """One attempt's outcome. A success for a feed that changed again meanwhile leaves the
        row pending, so the hub hears of the newer change too; a failure is retried at
        ``retry_at``, or given up (state ``failed``) when that is None."""
        key = (websub_pings.c.hub == ping.hub) & (websub_pings.c.topic == ping.topic)
        with self._tx(write=True) as conn:
            if error is None:
                conn.execute(websub_pings.update().where(
                    key, websub_pings.c.changed_at == ping.changed_at).values(
                    state="sent", due_at=None, attempts=0, last_attempt=now, last_error=None))
                conn.execute(websub_pings.update().where(key, websub_pings.c.state == "pending")
                             .values(due_at=now, attempts=0, last_attempt=now, last_error=None))
                return
            state = "pending" if retry_at is not None else "failed"
            conn.execute(websub_pings.update().where(key).values(
                state=state, due_at=retry_at, attempts=ping.attempts + 1, last_attempt=now,
                last_error=error))

    def hub_pings(self) -> list[HubPing]:
        """Every outbox row, for ``feeder status``."""
        with self._tx() as conn:
            rows = conn.execute(sa.select(websub_pings).order_by(
                websub_pings.c.hub, websub_pings.c.topic)).all()
        return [HubPing(**r._mapping) for r in rows]


# -- migrations: schema N-1 -> N, each run in the migration transaction --------------------

def _to_v2(conn: Connection) -> None:
    """Schema 2: pages keyed per source (was: by URL alone); feeds carry versions.

    The pages table is rebuilt (neither database can change a primary key in place portably).
    Every source with articles gets a feed row that is behind, so the first run after the
    upgrade rewrites its files: they may be stale from before (issue 9).
    """
    conn.execute(sa.text("ALTER TABLE pages RENAME TO pages_v1"))
    pages.create(conn)
    columns = ", ".join(c.name for c in pages.columns)
    conn.execute(sa.text(f"INSERT INTO pages ({columns}) SELECT {columns} FROM pages_v1"))
    conn.execute(sa.text("DROP TABLE pages_v1"))
    feeds.create(conn)
    conn.execute(feeds.insert().from_select(
        ["id", "content_version"],
        sa.select(articles.c.source, sa.literal(1)).group_by(articles.c.source)))
    conn.execute(feeds.insert().values(id=SITE_FEED, content_version=1))


def _to_v3(conn: Connection) -> None:
    """Schema 3: feeds remember the configuration they were built with."""
    if "built_with" not in {c["name"] for c in sa.inspect(conn).get_columns("feeds")}:
        conn.execute(sa.text("ALTER TABLE feeds ADD COLUMN built_with VARCHAR(64)"))


def _to_v4(conn: Connection) -> None:
    """Schema 4: articles say whether they were published with their lead only (was: found by
    a LIKE over every record of the source on each poll), with an index for the counts."""
    if "lead_only" not in {c["name"] for c in sa.inspect(conn).get_columns("articles")}:
        default = "false" if conn.dialect.name == "postgresql" else "0"
        conn.execute(sa.text(f"ALTER TABLE articles ADD COLUMN lead_only BOOLEAN NOT NULL "
                             f"DEFAULT {default}"))
        conn.execute(articles.update().where(articles.c.record.contains(LEAD_ONLY_MARK))
                     .values(lead_only=True))
    ix_articles_source_lead.create(conn, checkfirst=True)


_MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _to_v2, 3: _to_v3, 4: _to_v4}


def next_check(first_seen: datetime, checks_done: int, now: datetime) -> datetime | None:
    """When to look at a known article again: the decaying schedule, then never. Pure."""
    for i, after in enumerate(RECHECK_AFTER):
        due = first_seen + after
        if i >= checks_done and due > now:
            return due
    return None


def _article_row(a: Article, now: datetime) -> dict[str, Any]:
    """The columns a new or edited article writes (an unchanged one writes none, so its record
    is not serialised)."""
    return {
        "url": a.url, "content_hash": a.content_hash,
        "sort_time": a.published or a.updated or now,
        "newest_date": max((d for d in (a.published, a.updated) if d), default=None),
        "last_changed": now, "record": json.dumps(a.to_dict(), ensure_ascii=False),
        "lead_only": a.provenance.get("content") == "lead-only",
    }


def content_digest(items: Iterable[Article]) -> str:
    """A hash of what a feed shows: its articles' ids and content hashes, in order."""
    digest = hashlib.sha256()
    for a in items:
        digest.update(f"{a.id} {a.content_hash}\n".encode())
    return digest.hexdigest()


def _feed_state(feed: str, row: Any) -> FeedState:
    if row is None:
        return FeedState(feed, 0, None, None)
    return FeedState(feed, row.content_version, row.written_version, row.content_hash,
                     row.built_with)


def _stored(row: Any) -> StoredArticle:
    return StoredArticle(article=Article.from_dict(json.loads(row.record)),
                         content_hash=row.content_hash, first_seen=row.first_seen,
                         last_changed=row.last_changed)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]

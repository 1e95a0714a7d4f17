"""The store's schema 1, as feeder 0.1.0 created it (feeder/store.py before schema 2), kept to
test the migration from a database of the previous release. Never change it."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

sa.Table(
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
    sa.Column("sort_time", sa.DateTime, nullable=False),
    sa.Column("newest_date", sa.DateTime),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_changed", sa.DateTime, nullable=False),
    sa.Column("record", sa.Text, nullable=False),
    sa.UniqueConstraint("source", "article_id", name="uq_articles_source_article"),
)
sa.Index("ix_articles_source_sort", articles.c.source, articles.c.sort_time)
sa.Table(
    "pages", metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_fetched", sa.DateTime),
    sa.Column("next_check", sa.DateTime),
    sa.Column("checks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("article_id", sa.String(36)),
)
sa.Table(
    "sources", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("last_poll", sa.DateTime),
    sa.Column("last_success", sa.DateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("empty_polls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_due", sa.DateTime),
)
sa.Table(
    "robots", metadata,
    sa.Column("origin", sa.String(255), primary_key=True),
    sa.Column("body", sa.Text),
    sa.Column("fetched_at", sa.DateTime, nullable=False),
)

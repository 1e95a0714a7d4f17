"""The store on a real SQLite file and on PostgreSQL: uniqueness, edits, caching, source state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa

from feeder import clock
from feeder.model import Article, CacheInfo, Image
from feeder.store import Intent, Store, StoredArticle, decide, next_check

ICT = timezone(timedelta(hours=7))
T0 = datetime(2020, 12, 22, 10, 0, tzinfo=UTC)


def article(n: int = 1, **changes: object) -> Article:
    base = Article(
        url=f"http://bao.example.vn/thoi-su/bai-{n}.html", title=f"Tiêu đề {n}", source="bao",
        summary="Tóm tắt", content_html="<p>Nội dung</p>", content_text="Nội dung",
        authors=("Trí Nhân",), published=datetime(2020, 12, 22, 17, 5, tzinfo=ICT) +
        timedelta(minutes=n), language="vi",
        images=(Image("http://bao.example.vn/a.jpg", "Chú thích", "Trí Nhân"),))
    return replace(base, **changes)  # type: ignore[arg-type]


def apply_one(store: Store, a: Article) -> dict[str, int]:
    intent = decide(a, store.stored("bao", a.id), clock.now())
    return store.apply("bao", [Intent(intent.action, intent.article, a.url, CacheInfo('"e1"'))])


def test_new_then_unchanged_then_updated_in_place(database_url: str) -> None:
    clock.freeze(T0)
    store = Store(database_url)
    assert apply_one(store, article()) == {"new": 1, "updated": 0, "unchanged": 0}
    assert apply_one(store, article()) == {"new": 0, "updated": 0, "unchanged": 1}
    clock.freeze(T0 + timedelta(hours=2))
    edited = article(title="Tiêu đề 1 (cập nhật)")
    assert apply_one(store, edited) == {"new": 0, "updated": 1, "unchanged": 0}
    items = store.articles_for("bao", 10)
    assert len(items) == 1
    assert items[0].title == "Tiêu đề 1 (cập nhật)"
    assert items[0].updated == T0 + timedelta(hours=2)  # edit noticed, no visible update time
    assert items[0].published == article().published
    assert items[0].published.utcoffset() == timedelta(hours=7)  # offset kept
    assert store.cache_for("bao", article().url) == CacheInfo('"e1"')
    store.close()


def test_newest_first_and_limited(database_url: str) -> None:
    clock.freeze(T0)
    store = Store(database_url)
    intents = [Intent("new", article(n), article(n).url) for n in range(1, 6)]
    store.apply("bao", intents)
    got = store.articles_for("bao", 3)
    assert [a.title for a in got] == ["Tiêu đề 5", "Tiêu đề 4", "Tiêu đề 3"]
    assert store.count_articles("bao") == 5
    store.close()


def test_uniqueness_is_in_the_database(database_url: str) -> None:
    """Two workers inserting the same article: the unique key refuses the second row."""
    clock.freeze(T0)
    store = Store(database_url)
    store.apply("bao", [Intent("new", article(), article().url)])
    store.apply("bao", [Intent("new", article(), article().url)])  # a second run racing
    assert store.count_articles("bao") == 1
    from feeder.store import articles

    raised = False
    try:
        with store.engine.begin() as conn:
            conn.execute(articles.insert().values(
                source="bao", article_id=article().id, url="x", content_hash="h",
                sort_time=T0, first_seen=T0, last_changed=T0, record="{}"))
    except sa.exc.IntegrityError:
        raised = True
    assert raised
    store.close()


def test_recheck_schedule_decays_then_stops(database_url: str) -> None:
    clock.freeze(T0)
    store = Store(database_url)
    a = article()
    store.apply("bao", [Intent("new", a, a.url)])
    assert store.links_to_fetch("bao", [a.url, "http://bao.example.vn/new.html"], T0) == [
        "http://bao.example.vn/new.html"]
    assert store.links_to_fetch("bao", [], T0 + timedelta(minutes=59)) == []
    assert store.links_to_fetch("bao", [], T0 + timedelta(hours=1, minutes=1)) == [a.url]
    clock.freeze(T0 + timedelta(hours=1, minutes=1))
    store.apply("bao", [], not_modified=[(a.url, CacheInfo('"e1"'))])
    assert store.links_to_fetch("bao", [a.url], T0 + timedelta(hours=5)) == []
    assert store.links_to_fetch("bao", [a.url], T0 + timedelta(hours=6, minutes=1)) == [a.url]
    store.close()


def test_next_check_is_pure() -> None:
    assert next_check(T0, 0, T0) == T0 + timedelta(hours=1)
    assert next_check(T0, 1, T0 + timedelta(hours=1)) == T0 + timedelta(hours=6)
    assert next_check(T0, 1, T0 + timedelta(hours=7)) == T0 + timedelta(hours=24)
    assert next_check(T0, 3, T0 + timedelta(hours=25)) is None


def test_decide_keeps_published_and_dates_undated_pages() -> None:
    undated = article(published=None)
    new = decide(undated, None, T0)
    assert new.action == "new" and new.article.published == T0
    assert new.article.provenance["published"] == "first-seen"


def test_a_bumped_update_stamp_is_not_an_edit_when_it_is_the_only_date() -> None:
    first = article(published=T0, updated=T0,
                    provenance={"published": "updated-only", "updated": "visible"})
    stored = StoredArticle(first, first.content_hash, T0, T0)
    later = T0 + timedelta(days=30)
    bumped = replace(first, published=later, updated=later)
    intent = decide(bumped, stored, later)
    assert intent.action == "unchanged" and intent.article.published == T0
    edited = replace(bumped, content_html="<p>A new paragraph.</p>")
    intent = decide(edited, stored, later)
    assert intent.action == "updated"
    assert intent.article.published == T0 and intent.article.updated == later


def test_source_state_counts_failures_and_empty_polls(database_url: str) -> None:
    store = Store(database_url)
    due = T0 + timedelta(minutes=30)
    h = store.record_poll("bao", ok=False, error="boom", found_links=False, next_due=due, now=T0)
    assert h.consecutive_failures == 1 and h.last_error == "boom" and h.last_success is None
    h = store.record_poll("bao", ok=False, error="boom", found_links=False, next_due=due, now=T0)
    assert h.consecutive_failures == 2
    h = store.record_poll("bao", ok=True, error=None, found_links=False, next_due=due, now=T0)
    assert h.consecutive_failures == 0 and h.last_success == T0 and h.empty_polls == 1
    h = store.record_poll("bao", ok=True, error=None, found_links=False, next_due=due, now=T0)
    assert h.empty_polls == 2 and store.next_due("bao") == due and not h.selectors_broken
    h = store.record_poll("bao", ok=True, error=None, found_links=False, next_due=due, now=T0)
    assert h.empty_polls == 3 and h.selectors_broken
    h = store.record_poll("bao", ok=True, error=None, found_links=True, next_due=due, now=T0)
    assert h.empty_polls == 0
    store.close()


def test_sqlite_uses_wal(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/w.db")  # type: ignore[str-bytes-safe]
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_failed_page_backs_off_then_gives_up(database_url: str) -> None:
    from feeder.store import PAGE_GIVE_UP

    store = Store(database_url)
    url = "http://bao.example.vn/thoi-su/loi.html"
    retry = timedelta(minutes=30)
    assert store.record_page_failure("bao", url, T0, retry) == T0 + retry
    assert store.record_page_failure("bao", url, T0, retry) == T0 + 2 * retry
    assert store.links_to_fetch("bao", [url], T0 + retry) == []
    assert store.links_to_fetch("bao", [url], T0 + 2 * retry) == [url]
    for _ in range(PAGE_GIVE_UP - 3):
        store.record_page_failure("bao", url, T0, retry)
    assert store.record_page_failure("bao", url, T0, retry) is None
    assert store.links_to_fetch("bao", [url], T0 + timedelta(days=30)) == []
    gone = "http://bao.example.vn/thoi-su/da-xoa.html"
    assert store.record_page_failure("bao", gone, T0, retry, permanent=True) is None
    store.close()


def test_two_workers_racing_on_the_same_articles(database_url: str) -> None:
    """Two stores (as two workers would) apply the same new articles at once: no error, and each
    article is stored once."""
    import threading

    clock.freeze(T0)
    Store(database_url).close()  # schema first
    batch = [Intent("new", article(n), article(n).url) for n in range(1, 21)]
    errors: list[BaseException] = []
    counts: list[dict[str, int]] = []
    start = threading.Barrier(2)

    def worker() -> None:
        store = Store(database_url)
        try:
            start.wait()
            counts.append(store.apply("bao", batch))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    store = Store(database_url)
    assert store.count_articles("bao") == 20
    store.close()
    assert sum(c["new"] for c in counts) == 20

"""Polling one source, start to finish.

::

    store.cache_for(listing url)        -> CacheInfo
    | fetch.get(listing url, cache)     -> Page | NotModified       (the only network steps)
    | discover.links(page, source)      -> tuple[ArticleLink, ...]  (absolute, clean, unique)
      (kind "sitemap": sources.sitemap.collect, streamed; kind "feed": sources.feed.parse)
                                        -> Announcement per article
    | store.links_to_fetch(urls, now)   -> new links, and known ones due for an edit check
    | sources.changed_since_fetched     -> lastmod / feed dates: known ones only when changed
    | fetch.get(article url, cache)     -> Page | NotModified
    | extract.extract(page, source)     -> Article                  (pure)
    | sources.with_evidence             -> a feed's / news sitemap's date, author fill gaps
    | store.decide(article, stored)     -> Intent: new | updated | unchanged   (pure)
    | store.apply(intents, listings)    -> one transaction per source
    publish.publish_source(feed)        -> rss.xml, atom.xml, feed.json   (atomic, only if changed)

Listing validators (ETag / Last-Modified) are saved in the same transaction as the articles they
led to: a crash in between means the listing is fetched in full again, never that its articles are
skipped. Every step is safe to run twice.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from feeder import clock
from feeder.config import Config, Settings, Source
from feeder.discover import links as discover_links
from feeder.errors import ExtractError, FeederError, FetchError
from feeder.extract import extract
from feeder.fetch import MAX_RETRY_AFTER, Consumer, Fetcher, Streamed, bounded, is_public_host
from feeder.identity import Fetched, settle
from feeder.metrics import Metrics
from feeder.model import Article, CacheInfo, NotModified, Page, SourceFeed
from feeder.output import Output, open_output
from feeder.publish import (
    ALL_MAX_ITEMS,
    SiteFiles,
    chart,
    publish_files,
    publish_site_files,
    site_files,
    source_files,
)
from feeder.publish.archive import publish_archives
from feeder.publish.websub import HubNotifier
from feeder.schedule import plan_from_store
from feeder.sources import Announcement, changed_since_fetched, with_evidence
from feeder.sources import feed as feed_source
from feeder.sources import sitemap as sitemap_source
from feeder.store import SITE_FEED, Intent, Store, StoredArticle, content_digest, decide
from feeder.urls import same_site

log = logging.getLogger(__name__)

# A failed article page is tried again after this long (its listing may still show it).
ARTICLE_RETRY = timedelta(minutes=30)
# Article links taken from one poll's listings: a listing with 100,000 links is hostile, and the
# store is asked about each link.
MAX_LINKS_PER_POLL = 1000

Status = Literal["ok", "not-modified", "error", "skipped"]


@dataclass(frozen=True, slots=True)
class PollResult:
    """The outcome of one poll of one source: a value, never an exception."""

    source: str
    status: Status
    links: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed_pages: tuple[str, ...] = ()
    error: str | None = None
    written: tuple[str, ...] = ()
    seconds: float = 0.0
    warnings: tuple[str, ...] = field(default=())
    retry_after: float | None = None  # seconds the site asked us to wait (429/503 Retry-After)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated)


def _moved(url: str, moved_to: str | None) -> tuple[str, ...]:
    """The warning for a source URL that redirects permanently (301 / 308), naming the new one."""
    return (f"{url} moved permanently to {moved_to}: update the source's url",) if moved_to \
        else ()


@dataclass(frozen=True, slots=True)
class _Read:
    """What one of a source's URLs announced, and the validators to keep for it."""

    announced: tuple[Announcement, ...]
    validators: tuple[tuple[str, CacheInfo], ...]
    not_modified: bool
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def site_activity(store: Store, sources: Sequence[Source]) -> dict[str, chart.Activity]:
    """Each source's last days for the index page's charts, from the store."""
    failures, dates = store.activity([s.id for s in sources], chart.WINDOW_DAYS,
                                     chart.RECENT_ITEMS)
    return {s.id: chart.activity_from(s.id, s.tz, failures[s.id], dates[s.id]) for s in sources}


def render_site(settings: Settings, store: Store, sources: Sequence[Source], output: Output
                ) -> tuple[SiteFiles, list[Article]]:
    """The site's files as the store says now, and the articles of its combined feed."""
    summary, newest = store.feed_window({s.id: s.max_items for s in sources}, ALL_MAX_ITEMS)
    healths = store.healths([s.id for s in sources])
    feeds = []
    for s in sources:
        count, latest = summary.get(s.id, (0, None))
        feeds.append(SourceFeed(
            s, tuple(a for a in newest if a.source == s.id), healths[s.id],
            item_count=count, newest=latest.astimezone(s.tz) if latest else None))
    return site_files(settings, feeds, site_activity(store, sources), output=output), newest


class Poller:
    """Polls sources and publishes their feeds. Thread-safe: one instance serves all jobs."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher,
                 stop: threading.Event | None = None, metrics: Metrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or Metrics()
        self.settings = config.settings
        self.store = store
        self.fetcher = fetcher
        self.stop = stop or threading.Event()
        self.output = open_output(self.settings)
        # WebSub: publishing queues the changed feeds; the notifier tells the hubs afterwards.
        self.hub = HubNotifier(self.settings, store)

    # -- one source ------------------------------------------------------------------------

    def poll(self, source: Source) -> PollResult:
        """Poll one source and make its feed files equal the store."""
        started = time.monotonic()
        now = clock.now()
        try:
            result = self._poll(source, now)
        except FeederError as exc:
            result = PollResult(source.id, "error", error=str(exc))
        except Exception as exc:  # a bug must not take the other sources down with it
            log.exception("poll.crash source=%s", source.id)
            result = PollResult(source.id, "error", error=f"internal error: {exc!r}")
        if result.status == "error":
            # The site failed us today, but what is stored still reaches the files (issue 9).
            result = self._publish_anyway(source, result)
        result = replace(result, seconds=time.monotonic() - started)
        try:
            self._record(source, result, now)
        except Exception as exc:  # recording failed too (the store is down, a bug): say so
            log.exception("poll.record_failed source=%s", source.id)
            result = replace(result, status="error",
                             error=f"{result.error or result.status}; not recorded: {exc!r}")
        return result

    def _get(self, source: Source, url: str, kind: Literal["listing", "article", "feed"],
             allow_private: bool, until: float) -> Page | NotModified:
        started = time.monotonic()
        try:
            return self.fetcher.get(url, self.store.cache_for(source.id, url), kind=kind,
                                    allow_private=allow_private, until=until)
        finally:
            self.metrics.fetched(source.id, kind, time.monotonic() - started)

    def _stream(self, source: Source, url: str, consume: Consumer,
                allow_private: bool, until: float) -> Streamed | NotModified:
        started = time.monotonic()
        try:
            return self.fetcher.stream(url, consume, self.store.cache_for(source.id, url),
                                       kind="sitemap", allow_private=allow_private, until=until)
        finally:
            self.metrics.fetched(source.id, "listing", time.monotonic() - started)

    def _read_announcer(self, source: Source, url: str, allow_private: bool,
                        until: float) -> _Read:
        """One of the source's URLs, read as its kind says. FetchError goes up."""
        if source.kind == "sitemap":
            read = sitemap_source.collect(
                url, lambda u, consume: self._stream(source, u, consume, allow_private, until),
                tz=source.tz, max_bytes=self.settings.max_sitemap_bytes)
            return _Read(read.announced, read.validators, read.not_modified, read.errors,
                         _moved(url, read.moved_to))
        got = self._get(source, url, "feed" if source.kind == "feed" else "listing",
                        allow_private, until)
        if isinstance(got, NotModified):
            return _Read((), ((url, got.cache),), not_modified=True)
        moved = _moved(url, got.moved_to)
        if source.kind == "feed":
            announced = feed_source.parse(got.content, got.final_url, tz=source.tz)
        else:
            announced = tuple(Announcement(link.url, link.text)
                              for link in discover_links(got, source))
        return _Read(announced, ((url, got.cache),), not_modified=False, warnings=moved)

    def _poll(self, source: Source, now: datetime) -> PollResult:
        # A source whose own site is on a private host (the demo) may link within it.
        allow_private = not is_public_host(urlsplit(source.url).hostname or "")
        # One deadline for the whole poll: every wait, request and retry below stays within it.
        until = self.fetcher.deadline_in(self.settings.poll_timeout)
        found: list[Announcement] = []
        listings: list[tuple[str, CacheInfo]] = []
        errors: list[str] = []
        warnings: list[str] = []
        retry_after: float | None = None
        not_modified = 0
        for url in source.urls:
            try:
                read = self._read_announcer(source, url, allow_private, until)
            except FetchError as exc:
                log.warning("listing.error source=%s url=%s error=%s", source.id, url, exc)
                errors.append(str(exc))
                if exc.retry_after:
                    retry_after = max(retry_after or 0.0, exc.retry_after)
                continue
            except FeederError:
                raise
            except Exception as exc:  # a discovery bug: this listing fails, not the others
                log.exception("listing.crash source=%s url=%s", source.id, url)
                errors.append(f"{url}: internal error: {exc!r}")
                continue
            not_modified += read.not_modified
            found += read.announced
            listings += read.validators
            warnings += read.warnings
            errors += read.errors
            for warning in read.warnings:
                log.warning("source.moved source=%s %s", source.id, warning)
        if errors and not listings:  # not one of the source's URLs could be read
            return PollResult(source.id, "error", error="; ".join(errors),
                              retry_after=retry_after, warnings=tuple(warnings))

        announced = {a.url: a for a in reversed(found)}  # the first announcement of a URL wins
        urls = list(dict.fromkeys(a.url for a in found))[:MAX_LINKS_PER_POLL]
        to_fetch = self.store.links_to_fetch(source.id, urls, now)
        if any(a.modified is not None for a in found):
            fetched_at = self.store.last_fetched(source.id, urls)
            to_fetch = changed_since_fetched(found, to_fetch, fetched_at)
        to_fetch = to_fetch[: self.settings.max_articles_per_poll]
        intents: list[Intent] = []
        pages: list[tuple[str, CacheInfo, Fetched]] = []
        unchanged_pages: list[tuple[str, CacheInfo]] = []
        failed: list[str] = []
        fetched = 0
        for n, url in enumerate(to_fetch):
            if self.stop.is_set():
                break
            if self.fetcher.time_left(until) <= 0:
                warnings.append(f"poll deadline of {self.settings.poll_timeout:g} s reached: "
                                f"{len(to_fetch) - n} article pages left for the next poll")
                break
            try:
                got = self._get(source, url, "article", allow_private, until)
                fetched += 1
                if isinstance(got, NotModified):
                    unchanged_pages.append((url, got.cache))
                    continue
                article = extract(got.text, got.final_url, source=source.id,
                                  timezone=source.timezone, language=source.language)
                if url in announced:
                    article = with_evidence(article, announced[url])
            except (FetchError, ExtractError) as exc:
                log.warning("article.error source=%s url=%s error=%s", source.id, url, exc)
                failed.append(str(exc))
                permanent = isinstance(exc, ExtractError) or (
                    isinstance(exc, FetchError) and exc.status in (404, 410))
                self.store.record_page_failure(source.id, url, now, ARTICLE_RETRY,
                                               permanent=permanent)
                continue
            except FeederError:
                raise  # the store failing fails the poll (poll() reports it)
            except Exception as exc:  # an extractor bug: this page fails, not its whole source
                log.exception("article.crash source=%s url=%s", source.id, url)
                failed.append(f"{url}: internal error: {exc!r}")
                self.store.record_page_failure(source.id, url, now, ARTICLE_RETRY,
                                               permanent=False)
                continue
            if not same_site(article.url, got.final_url):
                # A canonical link pointing at another site is not to be trusted as the id.
                article = replace(article, url=got.final_url,
                                  provenance={**article.provenance, "url": "given"})
            pages.append((url, got.cache, Fetched(article, got.final_url)))

        # Each article's stored row is read once per poll: identity and decide() both need it.
        lookups: dict[str, StoredArticle | None] = {}

        def stored_as(article_id: str) -> StoredArticle | None:
            if article_id not in lookups:
                lookups[article_id] = self.store.stored(source.id, article_id)
            return lookups[article_id]

        settled = settle([p for *_, p in pages], self._known(source, pages, stored_as),
                         set(urls))
        for (url, cache, _), page in zip(pages, settled, strict=True):
            if page.same_as is not None:  # another item under a second URL: nothing new
                intents.append(Intent("unchanged", page.same_as, url, cache))
                continue
            stored = stored_as(page.article.id)
            intents.append(replace(decide(page.article, stored, now), fetched_url=url,
                                   cache=cache))

        counts = self.store.apply(source.id, intents, unchanged_pages, listings=listings)
        status: Status = "not-modified" if not_modified == len(source.urls) else "ok"
        if status == "ok" and not urls:
            warnings.append(f"{source.kind} yielded no article link")
        written = self.publish(source, force=bool(counts["new"] or counts["updated"]))
        return PollResult(
            source.id, status, links=len(urls), fetched=fetched, new=counts["new"],
            updated=counts["updated"], unchanged=counts["unchanged"], failed_pages=tuple(failed),
            error="; ".join(errors) or None, written=tuple(written), warnings=tuple(warnings))

    def _known(self, source: Source, pages: Sequence[tuple[str, CacheInfo, Fetched]],
               stored_as: Callable[[str], StoredArticle | None]) -> dict[str, Article]:
        """Stored articles that may decide the identity of ``pages`` (feeder.identity): the
        source's recent items and every item a page names as its canonical URL."""
        if not pages:
            return {}
        known = {a.url: a for a in self.store.articles_for(source.id, source.max_items)}
        for *_, page in pages:
            url = page.article.url
            if url not in known and (stored := stored_as(page.article.id)):
                known[url] = stored.article
        return known

    def _record(self, source: Source, result: PollResult, now: datetime) -> None:
        ok = result.status in ("ok", "not-modified")
        # The stored count matters only after a failure (record_poll counts it in the database;
        # the plan needs it first): a successful poll reads nothing here.
        failures = 0 if ok else self.store.failures_in_a_row(source.id) + 1
        plan = plan_from_store(self.store, source, failures, clock.now())
        due = plan.at
        if result.retry_after:  # the site said when to come back; never sooner (up to a day)
            wait = bounded(result.retry_after, 0.0, MAX_RETRY_AFTER)
            due = max(due, clock.now() + timedelta(seconds=wait))
        found = result.links > 0 or result.status == "not-modified"
        health = self.store.record_poll(source.id, ok=ok, error=result.error,
                                        found_links=found, next_due=due, now=now)
        self.store.record_warnings(source.id, result.warnings, now)
        # Per day in the source's zone, for the index page's charts (feeder.publish.chart).
        self.store.count_poll(source.id, now.astimezone(source.tz).date().isoformat(), ok=ok)
        self.metrics.polled(result, health)
        if self.settings.metrics_file:
            self.metrics.write(self.settings.metrics_file)
        fields = (f"source={source.id} status={result.status} links={result.links} "
                  f"fetched={result.fetched} new={result.new} updated={result.updated} "
                  f"failed={len(result.failed_pages)} ms={result.seconds * 1000:.0f}")
        if ok:
            log.info("poll.done %s next=%s why=%r", fields, due.isoformat(timespec="seconds"),
                     plan.reason)
        else:
            log.error("poll.failed %s failures=%d error=%s", fields,
                      health.consecutive_failures, result.error)
        if health.selectors_broken:
            log.warning("source.selectors_broken source=%s empty_polls=%d", source.id,
                        health.empty_polls)

    # -- publishing ------------------------------------------------------------------------

    def feed(self, source: Source) -> SourceFeed:
        return SourceFeed(source, self.store.articles_for(source.id, source.max_items),
                          self.store.health(source.id))

    def publish(self, source: Source, *, force: bool = False) -> list[str]:
        """Make the source's feed files equal the store (publishers skip unchanged files).

        The trigger is the feed's version in the store, not what this poll found: files behind
        their feed's content version (a crash or a full disk after the articles were stored, on
        this process or another) are rebuilt by the next poll, and so are files built with
        another configuration. A feed up to date costs one small read, and no read of articles.
        ``force`` builds anyway.
        """
        built_with = self._fingerprint(source)
        seen = self.store.feed_state(source.id)
        if not (force or seen.stale(built_with)):
            return []
        # Built outside the feed's lock, from a view at least as new as `seen` (read first).
        # A PublishError goes up to poll(), which reports it as this poll's error; the version
        # is then not marked written, so the next poll tries again. Archives first: the feed's
        # prev-archive link then never points at a missing document.
        archives = publish_archives(self.settings, source, self.store, self.output)
        feed = self.feed(source)
        files = source_files(self.settings, feed, prev_archive=archives.newest)
        # Written under the lock (one writer per feed), unless newer bytes are there already.
        with self.store.claim_feed(source.id) as claim:
            if claim.newer_than(seen, built_with):
                return [str(p) for p in archives.changed]
            written = [*archives.changed, *publish_files(self.settings, files, source=source.id,
                                                         output=self.output)]
            claim.written(content_digest(feed.articles), built_with,
                          version=seen.content_version)
        self.hub.queue(written)  # after the claim: it writes to the store
        return [str(p) for p in written]

    def _publish_anyway(self, source: Source, failed: PollResult) -> PollResult:
        """After a failed poll: publish the feed if its files are behind the store."""
        try:
            written = self.publish(source)
        except FeederError as exc:
            if str(exc) in (failed.error or ""):
                return failed  # publishing was what failed
            return replace(failed, error=f"{failed.error}; {exc}")
        except Exception:  # a bug: the poll's own error is the one to report
            log.exception("publish.crash source=%s", source.id)
            return failed
        return replace(failed, written=tuple(written)) if written else failed

    def site_behind(self) -> bool:
        """The site files (combined feed, index, status) are behind the store."""
        return self.store.feed_state(SITE_FEED).behind

    def _fingerprint(self, source: Source) -> str:
        """What a source's feed files depend on besides its articles."""
        s = self.settings
        return hashlib.sha256(repr((source, s.base_url, s.hubs, s.s3_url)).encode()).hexdigest()

    def publish_site(self) -> list[str]:
        """The combined feed, index page, OPML and status for all sources; a failure (a full
        disk, a database that went away) is logged and the files stay as they were, to be
        rebuilt when the site is next found behind its store version. Never raises FeederError:
        every driver (run --once, the scheduler, a worker's job) calls this."""
        try:
            return self._publish_site()
        except FeederError as exc:
            log.error("publish.site_failed error=%s", exc)
            return []

    def _publish_site(self) -> list[str]:
        """:meth:`publish_site`'s work.

        Only the articles that reach the combined feed are loaded, plus each feed's size and
        newest date: an idle run over a thousand sources stays small and quick. Rendered first,
        then written under the site's build lock unless newer files are there already.
        """
        seen = self.store.feed_state(SITE_FEED)  # before the view is read: it is at least this
        files, newest = render_site(self.settings, self.store, self.config.sources, self.output)
        with self.store.claim_feed(SITE_FEED) as claim:
            if claim.newer_than(seen):
                return []
            written = publish_site_files(self.settings, files, output=self.output)
            claim.written(content_digest(newest), version=seen.content_version)
        self.hub.queue(written)
        return [str(p) for p in written]

    # -- all sources once ------------------------------------------------------------------

    def run_once(self, only: Sequence[str] = ()) -> list[PollResult]:
        """Poll every (or every named) source once, then publish the site files."""
        from concurrent.futures import ThreadPoolExecutor

        chosen = [s for s in self.config.sources if not only or s.id in only]
        with ThreadPoolExecutor(max_workers=max(1, self.settings.workers),
                                thread_name_prefix="poll") as pool:
            results = list(pool.map(self.poll, chosen))
        self.publish_site()
        self.hub.drain()  # after publishing, so no hub ever delays a feed
        return results

"""The publish stage on real files: each format's required elements, stable bytes, the gate."""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree

import feeder.publish as publish
from feeder import clock
from feeder.errors import PublishError
from feeder.model import Article, Image, SourceFeed
from feeder.publish import gate, publish_site, publish_source
from tests.test_publish_fixtures import (
    BASE_URL,
    CA_MAU,
    HAU_GIANG,
    VN,
    article,
    publish_all,
    sample_feeds,
    settings_for,
)

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    out = tmp_path / "public"
    publish_all(out)
    return out


def _files(out: Path) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(out.rglob("*"))
            if p.is_file()}


def _parsed(path: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_layout(out: Path) -> None:
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for folder in ("baocamau", "baohaugiang", "all"):
        for name in ("rss.xml", "atom.xml", "feed.json"):
            assert f"{folder}/{name}" in names and f"{folder}/{name}.gz" in names
    for name in ("index.html", "feeds.opml", "status.json", "static/feed.xsl"):
        assert name in names
    assert ".feeder/cache-control.map" in names  # per-feed Cache-Control, never served
    hidden = [n for n in names if ("/." in n or n.startswith(".")) and not n.startswith(".feeder/")]
    assert not hidden, "temporary files left"
    assert all((out / n).stat().st_mode & 0o777 == 0o644 for n in names)


def test_rss_required_elements(out: Path) -> None:
    path = out / "baocamau" / "rss.xml"
    data = path.read_bytes()
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<?xml-stylesheet")
    parsed = _parsed(path)
    assert parsed.version == "rss20"
    articles = sample_feeds()[0].articles

    channel = etree.fromstring(data).find("channel")
    assert channel.findtext("title") == "Báo Cà Mau"
    assert channel.findtext("link") == CA_MAU.home
    assert channel.findtext("description")
    assert channel.findtext("language") == "vi"
    assert channel.findtext("ttl") == "15"
    self_link = channel.find(ATOM + "link")
    assert self_link.get("rel") == "self"
    assert self_link.get("href") == BASE_URL + "baocamau/rss.xml"
    # lastBuildDate is the newest item date (an article's update), never the build time.
    newest = max(d for a in articles for d in (a.published, a.updated) if d)
    assert parsedate_to_datetime(channel.findtext("lastBuildDate")) == newest

    items = channel.findall("item")
    assert len(items) == len(articles)
    for item, art in zip(items, articles, strict=True):
        assert item.findtext("title") == art.title
        assert item.findtext("link") == art.url
        guid = item.find("guid")
        assert guid.text == art.url and guid.get("isPermaLink") == "true"
        creators = [c.text for c in item.findall(DC + "creator")]
        assert creators == ([", ".join(art.authors)] if art.authors else [])
        assert item.find("author") is None  # RSS <author> must be an e-mail address
        pub = item.findtext("pubDate")
        assert pub.endswith("+0700")  # the article's own offset, not UTC
        assert parsedate_to_datetime(pub) == art.published
        assert item.findtext("description") == art.summary
        assert item.findtext(CONTENT + "encoded") == art.content_html
        enclosure = item.find("enclosure")
        assert enclosure.get("url") == art.images[0].url
        assert enclosure.get("type") == "image/jpeg"
        assert enclosure.get("length") == "0"

    for entry, art in zip(parsed.entries, articles, strict=True):
        assert entry.title == art.title and entry.link == art.url and entry.id == art.url
        assert entry.get("author") == (", ".join(art.authors) if art.authors else None)


def test_atom_required_elements(out: Path) -> None:
    path = out / "baocamau" / "atom.xml"
    parsed = _parsed(path)
    assert parsed.version == "atom10"
    articles = sample_feeds()[0].articles
    feed = etree.fromstring(path.read_bytes())
    assert feed.findtext(ATOM + "id").startswith("urn:uuid:")
    newest = max(d for a in articles for d in (a.published, a.updated) if d)
    assert datetime.fromisoformat(feed.findtext(ATOM + "updated")) == newest
    self_links = [x for x in feed.findall(ATOM + "link") if x.get("rel") == "self"]
    assert [x.get("href") for x in self_links] == [BASE_URL + "baocamau/atom.xml"]

    entries = feed.findall(ATOM + "entry")
    assert len(entries) == len(articles)
    for entry, art in zip(entries, articles, strict=True):
        assert entry.findtext(ATOM + "id") == f"urn:uuid:{art.id}"
        assert entry.findtext(ATOM + "title") == art.title
        updated = datetime.fromisoformat(entry.findtext(ATOM + "updated"))
        assert updated == (art.updated or art.published)
        published = entry.findtext(ATOM + "published")
        assert published.endswith("+07:00")
        assert datetime.fromisoformat(published) == art.published
        assert [a.findtext(ATOM + "name") for a in entry.findall(ATOM + "author")] == \
            list(art.authors)
        links = entry.findall(ATOM + "link")
        alternates = [x for x in links if x.get("rel") == "alternate"]
        assert [x.get("href") for x in alternates] == [art.url]
        enclosures = [x for x in links if x.get("rel") == "enclosure"]
        assert [(x.get("href"), x.get("type")) for x in enclosures] == \
            [(art.images[0].url, "image/jpeg")]
        content = entry.find(ATOM + "content")
        assert content.get("type") == "html" and content.text == art.content_html
        assert entry.findtext(ATOM + "summary") == art.summary

    # feedparser sees exactly one alternate link per entry (feedgen 1.0.0 would give two).
    for entry, art in zip(parsed.entries, articles, strict=True):
        assert entry.link == art.url
        assert [x.rel for x in entry.links].count("alternate") == 1
        assert entry.id == f"urn:uuid:{art.id}"


def test_json_feed_fields(out: Path) -> None:
    doc = json.loads((out / "baocamau" / "feed.json").read_bytes())
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["home_page_url"] == CA_MAU.home
    assert doc["feed_url"] == BASE_URL + "baocamau/feed.json"
    assert doc["language"] == "vi"
    articles = sample_feeds()[0].articles
    assert len(doc["items"]) == len(articles)
    for item, art in zip(doc["items"], articles, strict=True):
        assert item["id"] == f"urn:uuid:{art.id}"
        assert item["url"] == art.url
        assert item["title"] == art.title
        assert item["content_html"] == art.content_html
        assert item["summary"] == art.summary
        assert item["image"] == art.images[0].url
        assert datetime.fromisoformat(item["date_published"]) == art.published
        assert item["date_published"].endswith("+07:00")
        assert datetime.fromisoformat(item["date_modified"]) == (art.updated or art.published)
        assert [a["name"] for a in item.get("authors", [])] == list(art.authors)
        assert item["language"] == "vi"


def test_second_publish_changes_nothing(out: Path) -> None:
    before = _files(out)
    assert publish_all(out) == []
    assert _files(out) == before  # same bytes and same mtimes: ETag / Last-Modified survive


def test_bytes_do_not_depend_on_input_order_or_clock(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    clock.freeze(datetime(2024, 6, 2, 12, 0, tzinfo=UTC))
    publish_all(a)
    shuffled = [replace(f, articles=tuple(reversed(f.articles))) for f in sample_feeds()]
    clock.freeze(datetime(2024, 6, 3, 9, 30, 17, tzinfo=UTC))  # a day later, other h:m:s
    publish_all(b, feeds=list(reversed(shuffled)))  # also the site with sources in other order
    for path in a.rglob("*"):
        if path.is_file() and path.parent.name in ("baocamau", "baohaugiang", "all"):
            assert (b / path.relative_to(a)).read_bytes() == path.read_bytes(), path


def test_gzip_siblings_are_deterministic(out: Path) -> None:
    for gz in out.rglob("*.gz"):
        raw = gz.read_bytes()
        assert raw[4:8] == b"\0\0\0\0", f"{gz}: gzip header carries a time"
        assert gzip.decompress(raw) == gz.with_suffix("").read_bytes()


def test_only_changed_files_are_rewritten(out: Path) -> None:
    feeds = sample_feeds()
    edited = list(feeds[0].articles)
    edited[0] = replace(edited[0], title=edited[0].title + " (cập nhật)")
    changed = publish_source(settings_for(out), replace(feeds[0], articles=tuple(edited)))
    names = {p.relative_to(out).as_posix() for p in changed}
    assert names == {f"baocamau/{n}{gz}" for n in ("rss.xml", "atom.xml", "feed.json")
                     for gz in ("", ".gz")}


def test_resorts_and_limits(tmp_path: Path) -> None:
    source = replace(CA_MAU, max_items=3)
    arts = tuple(article(source, n) for n in (4, 0, 5, 2, 1, 3))
    publish_source(settings_for(tmp_path), SourceFeed(source, arts))
    doc = json.loads((tmp_path / "baocamau" / "feed.json").read_bytes())
    assert [i["url"] for i in doc["items"]] == [article(source, n).url for n in (0, 1, 2)]


def test_invalid_feed_never_replaces_a_valid_one(out: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    before = _files(out)

    def broken(channel: object) -> bytes:
        return b"<rss version='2.0'><channel><title>half"

    formats = tuple((n, broken if n == "rss.xml" else r, c) for n, r, c in publish._FORMATS)
    monkeypatch.setattr(publish, "_FORMATS", formats)
    feeds = sample_feeds()
    newer = replace(feeds[0], articles=(article(CA_MAU, -1), *feeds[0].articles))
    with pytest.raises(PublishError) as err:
        publish_source(settings_for(out), newer)
    assert err.value.source == "baocamau"
    assert "rss.xml" in str(err.value)
    # Nothing of that source changed, not even the formats that would have passed.
    assert _files(out) == before


def test_duplicate_ids_fail_the_gate() -> None:
    rss = (b"<rss version='2.0'><channel><title>t</title><link>http://x/</link>"
           b"<description>d</description>"
           b"<item><title>a</title><guid>http://x/1</guid></item>"
           b"<item><title>b</title><guid>http://x/1</guid></item></channel></rss>")
    with pytest.raises(gate.InvalidFeed, match="duplicate guid"):
        gate.check_rss(rss)


@pytest.mark.parametrize("bad_date", ["22/12/2020 17:05", "Tue, 22 Dec 2020 17:05:00"])
def test_bad_dates_fail_the_gate(bad_date: str) -> None:
    rss = (b"<rss version='2.0'><channel><title>t</title><link>http://x/</link>"
           b"<description>d</description><item><title>a</title><guid>http://x/1</guid>"
           b"<pubDate>" + bad_date.encode() + b"</pubDate></item></channel></rss>")
    with pytest.raises(gate.InvalidFeed, match="pubDate"):
        gate.check_rss(rss)


def test_two_alternate_links_fail_the_gate() -> None:
    atom = (b"<feed xmlns='http://www.w3.org/2005/Atom'><id>urn:x</id><title>t</title>"
            b"<updated>2020-12-22T17:05:00+07:00</updated><entry><id>urn:1</id><title>a</title>"
            b"<updated>2020-12-22T17:05:00+07:00</updated><link href='http://x/1'/>"
            b"<link href='http://x/1.jpg' type='image/jpeg'/></entry></feed>")
    with pytest.raises(gate.InvalidFeed, match="2 alternate links"):
        gate.check_atom(atom)


def test_ids_are_stable_across_content_edits(tmp_path: Path) -> None:
    first = article(CA_MAU, 0)
    edited = replace(first, title="Tiêu đề mới", content_html="<p>Đã sửa</p>",
                     updated=first.published + timedelta(hours=2))
    ids = []
    for n, art in enumerate((first, edited)):
        out = tmp_path / str(n)
        publish_source(settings_for(out), SourceFeed(CA_MAU, (art,)))
        rss = etree.fromstring((out / "baocamau" / "rss.xml").read_bytes())
        atom = etree.fromstring((out / "baocamau" / "atom.xml").read_bytes())
        doc = json.loads((out / "baocamau" / "feed.json").read_bytes())
        ids.append((rss.findtext("channel/item/guid"), atom.findtext(f"{ATOM}entry/{ATOM}id"),
                    doc["items"][0]["id"], atom.findtext(f"{ATOM}id")))
    assert ids[0] == ids[1]


def test_control_characters_are_stripped(tmp_path: Path) -> None:
    art = article(CA_MAU, 0, title="Cà\x01 Mau\x0b ngày\ufffe mới\x7f", summary="Tóm\x00 tắt\x1f",
                  authors=("TRÍ\x08 NHÂN",), content_html="<p>Nội\x0c dung\x85</p>",
                  categories=("Thời\x1b sự",),
                  images=(Image(url="https://baocamau.example.vn/a.jpg",
                                caption="Chú\x02 thích"),))
    publish_source(settings_for(tmp_path), SourceFeed(CA_MAU, (art,)))
    for name in ("rss.xml", "atom.xml", "feed.json"):
        path = tmp_path / "baocamau" / name
        text = path.read_text("utf-8")
        assert not any(c in text for c in "\x00\x01\x02\x08\x0b\x0c\x1b\x1f\x7f\x85\ufffe"), name
        assert "Cà Mau ngày mới" in text and "TRÍ NHÂN" in text
        if name != "feed.json":  # feedparser 6 does not read JSON Feed
            _parsed(path)
    doc = json.loads((tmp_path / "baocamau" / "feed.json").read_bytes())
    assert doc["items"][0]["title"] == "Cà Mau ngày mới"


def test_article_without_dates_is_published_with_stable_values(tmp_path: Path) -> None:
    undated = Article(url="https://baocamau.example.vn/khong-ngay.html", title="Bài không ngày")
    dated = article(CA_MAU, 0)
    for run in range(2):
        publish_source(settings_for(tmp_path), SourceFeed(CA_MAU, (undated, dated)))
        if run == 0:
            first = _files(tmp_path)
    assert _files(tmp_path) == first
    rss = etree.fromstring((tmp_path / "baocamau" / "rss.xml").read_bytes())
    items = rss.findall("channel/item")
    assert items[0].findtext("guid") == dated.url  # dated first, undated last
    assert items[1].find("pubDate") is None
    atom = etree.fromstring((tmp_path / "baocamau" / "atom.xml").read_bytes())
    entry = atom.findall(ATOM + "entry")[1]
    assert entry.findtext(ATOM + "updated") == "2000-01-01T00:00:00Z"
    assert entry.find(ATOM + "published") is None
    _parsed(tmp_path / "baocamau" / "atom.xml")

    # A feed of only undated articles has no lastBuildDate rather than a made-up one.
    only = tmp_path / "only"
    publish_source(settings_for(only), SourceFeed(CA_MAU, (undated,)))
    rss = etree.fromstring((only / "baocamau" / "rss.xml").read_bytes())
    assert rss.find("channel/lastBuildDate") is None


def test_empty_source_publishes_valid_feeds(tmp_path: Path) -> None:
    publish_source(settings_for(tmp_path), SourceFeed(HAU_GIANG, ()))
    for name in ("rss.xml", "atom.xml"):
        _parsed(tmp_path / "baohaugiang" / name)
    assert json.loads((tmp_path / "baohaugiang" / "feed.json").read_bytes())["items"] == []


def test_image_without_known_type_is_not_an_enclosure(tmp_path: Path) -> None:
    art = article(CA_MAU, 0, images=(Image(url="https://baocamau.example.vn/anh?id=5"),))
    publish_source(settings_for(tmp_path), SourceFeed(CA_MAU, (art,)))
    rss = etree.fromstring((tmp_path / "baocamau" / "rss.xml").read_bytes())
    assert rss.find("channel/item/enclosure") is None


def test_combined_feed(out: Path) -> None:
    parsed = _parsed(out / "all" / "atom.xml")
    arts = [a for f in sample_feeds() for a in f.articles]
    assert len(parsed.entries) == len(arts)
    ids = [e.id for e in parsed.entries]
    assert len(set(ids)) == len(ids)
    dates = [datetime.fromisoformat(e.published) for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)
    rss = etree.fromstring((out / "all" / "rss.xml").read_bytes())
    assert rss.findtext("channel/language") == "vi"
    assert rss.find(f"channel/{ATOM}link").get("href") == BASE_URL + "all/rss.xml"


def test_combined_feed_is_capped(tmp_path: Path) -> None:
    many = tuple(article(replace(CA_MAU, max_items=500), n) for n in range(150))
    feeds = [SourceFeed(replace(CA_MAU, max_items=500), many)]
    publish_site(settings_for(tmp_path), feeds)
    doc = json.loads((tmp_path / "all" / "feed.json").read_bytes())
    assert len(doc["items"]) == publish.ALL_MAX_ITEMS


def test_index_page(out: Path) -> None:
    page = (out / "index.html").read_text("utf-8")
    tree = etree.HTML(page)
    alternates = tree.xpath("//head/link[@rel='alternate']")
    hrefs = {(x.get("type"), x.get("href")) for x in alternates}
    for key in ("baocamau", "baohaugiang", "all"):
        assert ("application/rss+xml", f"{key}/rss.xml") in hrefs
        assert ("application/atom+xml", f"{key}/atom.xml") in hrefs
        assert ("application/feed+json", f"{key}/feed.json") in hrefs
    assert "Báo Cà Mau" in page and "Báo Hậu Giang" in page
    assert "2020-12-22 17:05 +0700" in page  # last update of Cà Mau
    assert "failing: 3 polls in a row" in page and "HTTP 503" in page
    rows = tree.xpath("//tbody/tr")
    assert [r.xpath("string(td[4])") for r in rows] == ["6", "3", "9"]


def test_opml(out: Path) -> None:
    root = etree.fromstring((out / "feeds.opml").read_bytes())
    assert root.tag == "opml" and root.get("version") == "2.0"
    outlines = root.findall("body/outline")
    assert [(o.get("text"), o.get("type"), o.get("xmlUrl"), o.get("htmlUrl")) for o in outlines] \
        == [("Báo Cà Mau", "rss", BASE_URL + "baocamau/rss.xml", CA_MAU.home),
            ("Báo Hậu Giang", "rss", BASE_URL + "baohaugiang/rss.xml", HAU_GIANG.home)]


def test_status_json(out: Path) -> None:
    doc = json.loads((out / "status.json").read_bytes())
    assert doc["ok"] is False
    by_id = {s["id"]: s for s in doc["sources"]}
    assert by_id["baocamau"]["ok"] is True and by_id["baocamau"]["feed_items"] == 6
    failing = by_id["baohaugiang"]
    assert failing["consecutive_failures"] == 3
    assert failing["last_error"].endswith("HTTP 503")
    assert datetime.fromisoformat(failing["last_success"]) == \
        datetime(2020, 12, 22, 6, 0, tzinfo=UTC)


def test_stylesheet_renders_rss_and_atom(out: Path) -> None:
    xslt = etree.XSLT(etree.parse(str(out / "static" / "feed.xsl")))
    for name in ("rss.xml", "atom.xml"):
        doc = etree.parse(str(out / "baocamau" / name))
        pi = doc.getroot().getprevious()
        assert pi is not None and pi.target == "xml-stylesheet"
        assert (out / "baocamau" / pi.get("href")).resolve() == \
            (out / "static" / "feed.xsl").resolve()
        html = str(xslt(doc))
        assert "Báo Cà Mau" in html
        assert article(CA_MAU, 0).title in html
        assert article(CA_MAU, 0).url in html


def test_pubdate_keeps_offset_for_other_zones(tmp_path: Path) -> None:
    when = datetime(2021, 3, 1, 8, 0, tzinfo=UTC)
    art = article(CA_MAU, 0, published=when, updated=None)
    publish_source(settings_for(tmp_path), SourceFeed(CA_MAU, (art,)))
    rss = etree.fromstring((tmp_path / "baocamau" / "rss.xml").read_bytes())
    assert rss.findtext("channel/item/pubDate") == "Mon, 01 Mar 2021 08:00:00 +0000"
    atom = (tmp_path / "baocamau" / "atom.xml").read_text("utf-8")
    assert "<published>2021-03-01T08:00:00Z</published>" in atom
    vn = art.published.astimezone(VN)
    assert vn.utcoffset() == timedelta(hours=7)


def test_write_failure_is_a_publish_error(tmp_path: Path) -> None:
    blocker = tmp_path / "baocamau"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(PublishError) as err:
        publish_source(settings_for(tmp_path), sample_feeds()[0])
    assert err.value.source == "baocamau"
    assert os.path.isfile(blocker)

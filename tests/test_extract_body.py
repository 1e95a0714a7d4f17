"""The body stage: its confidence, the second opinion where it is low, and the lead-only
fallback that keeps an item from ever going out with an empty body."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser

from feeder import clock
from feeder.extract import body, content, extract
from feeder.extract.core import parse
from feeder.model import CacheInfo, SourceFeed
from feeder.store import Intent, Store, decide
from tests.test_publish_fixtures import CA_MAU, publish_all

URL = "https://baocamau.example.vn/thoi-su/bai-viet-1.html"
PARAGRAPH = ("Sáng 14/3, tại xã Tân Hưng, UBND huyện Cái Nước tổ chức lễ khánh thành cây cầu bê "
             "tông nối hai ấp, giúp hơn 300 hộ dân đi lại thuận tiện, nhất là vào mùa mưa, khi "
             "con đường đất cũ ngập sâu và học sinh phải đi đò qua sông để đến trường.")


def _page(body_html: str, head: str = "") -> str:
    return (f"<html lang='vi'><head><title>Khánh thành cầu Tân Hưng</title>{head}</head><body>"
            f"<header><a href='/'>Báo Cà Mau</a></header>{body_html}"
            "<footer>© Báo Cà Mau</footer></body></html>")


ARTICLE = _page("<article><h1>Khánh thành cầu Tân Hưng</h1>"
                + "".join(f"<p>{PARAGRAPH} Đoạn {i}.</p>" for i in range(5)) + "</article>")
# The text is there, but in no element that the main-block finder scores (a bare run of lines
# in <body>, split by <br>): the finder comes back with nothing.
BARE_TEXT = _page("<h1>Khánh thành cầu Tân Hưng</h1>"
                  + "".join(f"<b>{PARAGRAPH} Đoạn {i}.</b><br><br>" for i in range(5)))
TITLE_ONLY = _page("<h1>Khánh thành cầu Tân Hưng</h1>",
                   head="<meta name='description' content='Hơn 300 hộ dân xã Tân Hưng có cầu "
                        "mới, không còn phải đi đò qua sông.'>")
NOTHING_BUT_TITLE = _page("<h1>Khánh thành cầu Tân Hưng</h1>")


def _finder_blocks(page: str) -> tuple[list[content.Block], object]:
    tree = parse(page)
    content.prune(tree)
    main = content.find_main(tree)
    return (content.render(main, URL) if main is not None else []), tree


def test_a_long_article_is_trusted_without_a_second_opinion() -> None:
    blocks, tree = _finder_blocks(ARTICLE)
    choice = body.choose(blocks, tree, ARTICLE, URL)  # type: ignore[arg-type]
    assert choice.source == "main-block"
    assert choice.confidence == 1.0 and choice.reasons == ()
    assert choice.evidence.paragraphs == 5
    record = extract(ARTICLE, URL)
    assert record.provenance["content"] == "main-block"


def test_low_confidence_asks_trafilatura_and_says_why() -> None:
    blocks, tree = _finder_blocks(BARE_TEXT)
    ours = body.evidence(blocks, body.page_chars(tree))  # type: ignore[arg-type]
    assert ours.confidence < 1.0
    choice = body.choose(blocks, tree, BARE_TEXT, URL)  # type: ignore[arg-type]
    assert choice.source == "trafilatura"
    assert choice.evidence.chars > ours.chars
    assert any("trafilatura found" in why for why in choice.reasons)
    record = extract(BARE_TEXT, URL)
    assert record.provenance["content"] == "trafilatura"
    assert "Đoạn 4" in record.content_text and "<p>" in record.content_html


# A column of teasers with more text than the article, none of it in <p>s, beside the story.
TEASERS = "".join(f"<div class='teaser'>Tin khác {n}: xã Tân Hưng tổ chức hội thi, trao giải "
                  f"cho các đội, và nhiều hoạt động khác diễn ra trong suốt tuần lễ văn hóa "
                  f"của huyện Cái Nước năm nay.</div>" for n in range(14))
COLUMN_PAGE = _page("<div class='cols'><article><h1>Khánh thành cầu Tân Hưng</h1>"
                    + "".join(f"<p>{PARAGRAPH} Đoạn {i}.</p>" for i in range(3))
                    + f"</article><div class='related-news'>{TEASERS}</div></div>")


def test_a_block_that_holds_none_of_the_pages_paragraphs_is_not_trusted() -> None:
    tree = parse(COLUMN_PAGE)  # (unpruned: as if the finder had taken the teaser column)
    column = next(el for el in tree.iter("div") if el.get("class") == "related-news")
    blocks = content.render(column, URL)
    ours = body.evidence(blocks, body.page_chars(tree), column)
    assert ours.covered == 0.0 and ours.confidence < 1.0
    assert any("of the page's paragraphs" in why for why in ours.reasons())
    choice = body.choose(blocks, tree, COLUMN_PAGE, URL, column)
    assert choice.source == "trafilatura"
    assert choice.evidence.covered > 0.9
    assert "Đoạn 2" in content.to_text(list(choice.blocks))


def test_a_reading_matched_by_text_covers_paragraphs_with_soft_hyphens() -> None:
    # Soft hyphens are hints for breaking lines, not letters: a reading without them (as the
    # body's text is written) holds the same paragraphs as the page that carries them.
    hyphenated = PARAGRAPH.replace("khánh", "khánh\xad").replace("thuận", "thu\xadận")
    tree = parse(_page("<article>" + f"<p>{hyphenated}</p>" * 3 + "</article>"))
    reading = [content.Block("p", content.body_text(hyphenated)) for _ in range(3)]
    assert body.evidence(reading, body.page_chars(tree)).covered == 1.0


def test_without_the_page_there_is_no_second_opinion() -> None:
    blocks, tree = _finder_blocks(BARE_TEXT)
    choice = body.choose(blocks, tree, None, URL)  # type: ignore[arg-type]
    assert choice.source in ("main-block", "none")
    assert choice.confidence < 1.0 and choice.reasons


def test_a_page_without_text_gives_a_lead_only_item() -> None:
    record = extract(TITLE_ONLY, URL)
    assert record.provenance["content"] == "lead-only"
    assert record.summary and record.summary in record.content_text
    assert record.summary in record.content_html
    assert f'href="{URL}"' in record.content_html  # the reader can still reach the article


def test_a_page_with_nothing_but_a_title_still_has_a_body() -> None:
    record = extract(NOTHING_BUT_TITLE, URL)
    assert record.provenance["content"] == "lead-only"
    assert record.content_html.strip()
    assert f'href="{URL}"' in record.content_html


def test_the_publish_path_never_sees_an_empty_body(tmp_path: Path) -> None:
    pages = (ARTICLE, BARE_TEXT, TITLE_ONLY, NOTHING_BUT_TITLE)
    articles = tuple(extract(page, URL.replace("-1.", f"-{n}."), source=CA_MAU.id)
                     for n, page in enumerate(pages))
    assert all(a.content_html.strip() for a in articles)
    out = tmp_path / "public"
    publish_all(out, feeds=[SourceFeed(CA_MAU, articles)])
    rss = feedparser.parse((out / CA_MAU.id / "rss.xml").read_bytes())
    atom = feedparser.parse((out / CA_MAU.id / "atom.xml").read_bytes())
    for parsed in (rss, atom):
        assert len(parsed.entries) == len(pages)
        for entry in parsed.entries:
            text = entry.content[0].value if "content" in entry else entry.get("summary", "")
            assert text.strip(), entry.link
    items = json.loads((out / CA_MAU.id / "feed.json").read_bytes())["items"]
    assert all(item.get("content_html", "").strip() for item in items)


def test_lead_only_items_are_counted_in_the_source_health(database_url: str) -> None:
    store = Store(database_url)
    try:
        for n, page in enumerate((ARTICLE, TITLE_ONLY, NOTHING_BUT_TITLE)):
            record = extract(page, URL.replace("-1.", f"-{n}."), source=CA_MAU.id)
            intent = decide(record, store.stored(CA_MAU.id, record.id), clock.now())
            store.apply(CA_MAU.id, [Intent(intent.action, intent.article, record.url,
                                           CacheInfo())])
        health = store.health(CA_MAU.id)
        assert health.item_count == 3
        assert health.lead_only == 2
    finally:
        store.close()

"""Unit tests for the extraction helpers: dates, bylines, titles, batch."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from feeder.extract import byline, dates, title
from feeder.extract.batch import run_batch

ICT = timezone(timedelta(hours=7))


@pytest.mark.parametrize(("text", "expected", "has_time"), [
    ("Thứ Ba, 22/12/2020, 17:05 (GMT+7)", datetime(2020, 12, 22, 17, 5, tzinfo=ICT), True),
    ("22/12/2020 - 17:05", datetime(2020, 12, 22, 17, 5, tzinfo=ICT), True),
    ("17:05 22/12/2020", datetime(2020, 12, 22, 17, 5, tzinfo=ICT), True),
    ("Chủ nhật, 02/06/2024 - 19:05", datetime(2024, 6, 2, 19, 5, tzinfo=ICT), True),
    ("12/6/2024 | 06:45", datetime(2024, 6, 12, 6, 45, tzinfo=ICT), True),
    ("Cập nhật lúc 09:15 ngày 05/05/2024", datetime(2024, 5, 5, 9, 15, tzinfo=ICT), True),
    ("Đăng ngày 05/05/2024", datetime(2024, 5, 5, tzinfo=ICT), False),
    ("May 3, 2024 at 5:30 pm", datetime(2024, 5, 3, 17, 30, tzinfo=ICT), True),
    ("Ngày 22 tháng 12 năm 2020", datetime(2020, 12, 22, tzinfo=ICT), False),
    ("Thứ Hai, 2 tháng 6, 2024 19:05", datetime(2024, 6, 2, 19, 5, tzinfo=ICT), True),
    ("Đăng lúc 2020-12-22 17:05", datetime(2020, 12, 22, 17, 5, tzinfo=ICT), True),
])
def test_visible_dates_are_day_first_in_source_zone(text: str, expected: datetime,
                                                    has_time: bool) -> None:
    stamp = dates.parse_visible(text, "Asia/Ho_Chi_Minh")
    assert stamp is not None
    assert stamp.when == expected
    assert stamp.when.utcoffset() == timedelta(hours=7)
    assert stamp.has_time is has_time


def test_visible_offset_wins_over_source_zone() -> None:
    stamp = dates.parse_visible("22/12/2020, 17:05 (GMT+9)", "Asia/Ho_Chi_Minh")
    assert stamp is not None and stamp.when.utcoffset() == timedelta(hours=9)


def test_update_label() -> None:
    assert dates.is_update_label("Cập nhật lúc 09:15 ngày 05/05/2024")
    assert not dates.is_update_label("Thứ Ba, 22/12/2020, 17:05")


def test_dateline_day_without_year() -> None:
    assert dates.dateline_day("Ngày 22/12, Đảng ủy Công an tỉnh đã tổ chức") == (22, 12)
    assert dates.dateline_day("Ngày 22/12/2020 hội nghị") is None


def test_a_dateline_confirms_but_never_brings_its_own_day() -> None:
    from feeder.extract import extract

    body = ("<p>Ngày 22/12, Công an tỉnh tổ chức hội nghị tổng kết công tác năm 2020 với nhiều"
            " nội dung quan trọng.</p>" + "<p>Hội nghị đánh giá kết quả một năm làm việc.</p>" * 3)
    page = ("<html lang='vi'><head><title>Hội nghị tổng kết năm 2020</title>"
            "<meta property='article:published_time' content='2020-12-23T09:00:00+07:00'>"
            f"</head><body><article><h1>Hội nghị tổng kết năm 2020</h1>{body}</article>"
            "</body></html>")
    art = extract(page, "https://bao.example/hoi-nghi.html")
    # The event was the day before; the article's own stamp stays.
    assert art.published is not None and art.published.isoformat() == "2020-12-23T09:00:00+07:00"
    assert "dateline" not in art.provenance["published"]


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-05-03T15:47:42.389Z", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
    ("2024-05-03T15:47:42+0200", datetime(2024, 5, 3, 15, 47, 42,
                                          tzinfo=timezone(timedelta(hours=2)))),
    ("2024-05-03 15:47", datetime(2024, 5, 3, 15, 47, tzinfo=ICT)),  # naive: source zone
    ("Fri, 03 May 2024 15:47:42 GMT", datetime(2024, 5, 3, 15, 47, 42, tzinfo=UTC)),
])
def test_machine_dates(value: str, expected: datetime) -> None:
    stamp = dates.parse_machine(value, "Asia/Ho_Chi_Minh")
    assert stamp is not None and stamp.when == expected


def test_machine_day_only_is_midnight_without_time() -> None:
    stamp = dates.parse_machine("2024-05-03", "Asia/Ho_Chi_Minh")
    assert stamp is not None and not stamp.has_time
    assert stamp.when == datetime(2024, 5, 3, tzinfo=ICT)


@pytest.mark.parametrize(("line", "names"), [
    ("Tin, ảnh: TRÍ NHÂN", ["Trí Nhân"]),
    ("Bài và ảnh: HOÀNG ANH - MINH THƯ", ["Hoàng Anh", "Minh Thư"]),
    ("Bài, ảnh: Lê Phương", ["Lê Phương"]),
    ("Tin: NGỌC HÀ", ["Ngọc Hà"]),
    # The writer, not the photographer credited after him.
    ("Bài: NGUYỄN VĂN AN - Ảnh: TRẦN BÌNH", ["Nguyễn Văn An"]),
    ("Bài: Minh Anh; ảnh: Hoàng Hà", ["Minh Anh"]),
    ("Theo TTXVN", None),
    ("Nguồn: VTV", None),
    ("Người dân hai bên bờ sông không còn phải đi đò ngang như trước.", None),
])
def test_credit_lines(line: str, names: list[str] | None) -> None:
    assert byline.credit_line(line) == names


def test_source_credit_and_lone_name() -> None:
    assert byline.is_source_credit("Theo TTXVN")
    assert byline.is_source_credit("Nguồn: Báo Nhân Dân")
    assert byline.lone_name("HOÀNG ANH") == ["Hoàng Anh"]
    assert byline.lone_name("Hoàng Anh") is None
    # A name signed with its agency or status.
    assert byline.lone_name("Thu Hằng (TTXVN)") == ["Thu Hằng"]
    assert byline.lone_name("Minh Anh (CTV)") == ["Minh Anh"]
    assert byline.lone_name("Đây là kết quả của cả năm (ABC)") is None
    assert byline.lone_name("HOÀNG ANH (TTXVN)") == ["Hoàng Anh"]
    assert byline.lone_name("Hồng Nhung/VOV.VN") == ["Hồng Nhung"]
    assert byline.lone_name("Lê Phương (tổng hợp)") == ["Lê Phương"]
    assert byline.lone_name("Hà Nội/Đà Nẵng") is None
    # An agency is written in capitals: a lower-case word after the name is not one.
    assert byline.lone_name("Jane Doe/John") is None
    assert byline.lone_name("Jane Doe (abc)") is None
    assert byline.split_names("Hồng Nhung/VOV.VN") == ["Hồng Nhung"]
    assert byline.split_names("Jane Doe/John Roe") == ["Jane Doe", "John Roe"]
    # An abbreviation stays in capitals when the name is title-cased.
    assert byline.lone_name("NHÓM PV") == ["Nhóm PV"]


@pytest.mark.parametrize(("raw", "names"), [
    ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
    ("Von Birgit Baumann, Anna Giulia Fink", ["Birgit Baumann", "Anna Giulia Fink"]),
    ("TRÍ NHÂN", ["Trí Nhân"]),
    ("https://example.org/authors/jane", []),
])
def test_split_names(raw: str, names: list[str]) -> None:
    assert byline.split_names(raw) == names


@pytest.mark.parametrize(("raw", "clean"), [
    ("Mùa lúa chín - Báo Đồng Nai Xanh", "Mùa lúa chín"),
    ("Báo Đồng Nai Xanh | Mùa lúa chín", "Mùa lúa chín"),
    ("Cà phê: giá tăng - giảm thất thường", "Cà phê: giá tăng - giảm thất thường"),
])
def test_strip_site_name(raw: str, clean: str) -> None:
    assert title.strip_site(raw, ["Báo Đồng Nai Xanh"], "https://baodongnaixanh.example/a") == clean


def test_batch_survives_bad_pages(tmp_path: Path) -> None:
    page = (Path(__file__).parent / "golden" / "extract" / "vn-credit-line.html").read_bytes()
    (tmp_path / "good.html.gz").write_bytes(gzip.compress(page))
    (tmp_path / "empty.html").write_bytes(b"")
    lines = [
        {"id": "good", "path": "good.html.gz", "url": "https://a.example/1.html"},
        {"id": "missing", "path": "nope.html", "url": "https://a.example/2.html"},
        {"id": "empty", "path": "empty.html", "url": "https://a.example/3.html"},
    ]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    assert run_batch(manifest, out) == (1, 2)
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == ["good", "missing", "empty"]
    assert rows[0]["record"]["authors"] == ["Trí Nhân"]
    assert "error" in rows[1] and "error" in rows[2]


def test_a_byline_and_time_stamp_line_is_not_the_lead() -> None:
    from lxml import html as lxml_html

    from feeder.extract import lead

    paras = "".join(f"<p>Paragraph {n} of the report on the harbour works and the new quay.</p>"
                    for n in range(6))
    for meta_line in ("Von Redaktion, jr 15.04.2026 - 15:48 Uhr Lesedauer: 2 Min.",
                      "By Jane Roe and the newsroom staff, with reporting from the harbour."):
        tree = lxml_html.fromstring(
            f"<html><body><header><h1>Harbour works begin</h1><div class='summary'>{meta_line}"
            "</div><p class='standfirst'>The city starts building the new quay on Monday, two"
            f" years late and over budget.</p></header><div class='body'>{paras}</div>"
            "</body></html>")
        found = lead.find(tree)
        assert found is not None and found.text.startswith("The city starts"), meta_line


def test_a_label_for_a_description_gives_way_to_the_opening_paragraph() -> None:
    from feeder.extract import extract

    first = ("Die Gesellschaft für Allgemeinmedizin hat in Klausen ihr 30-jähriges Bestehen "
             "gefeiert.")
    page = ("<html><head><title>30 Jahre Allgemeinmedizin</title>"
            "<meta property='og:description' content='GfA-Vollversammlung'></head><body>"
            f"<article><h1>30 Jahre Allgemeinmedizin</h1><p>{first}</p>"
            + "<p>Die Mitglieder blickten auf drei Jahrzehnte Arbeit in den Praxen zurück.</p>" * 3
            + "</article></body></html>")
    art = extract(page, "https://zeitung.example/gfa-jubilaeum", timezone="Europe/Rome")
    assert art.summary == first and art.provenance["summary"] == "first-paragraph"


def test_a_sentence_in_an_image_objects_name_is_its_caption() -> None:
    from lxml import html as lxml_html

    from feeder.extract import images

    ld = ('{"@type": "NewsArticle", "image": [{"@type": "ImageObject", '
          '"url": "https://img.example/2024/10/16/P01-317.jpg", "name": "Marines from both '
          'countries rehearse a beach landing near the port"}, {"@type": "ImageObject", '
          '"url": "https://img.example/logo.png", "name": "P01-318.jpg taken by the desk camera"},'
          ' {"@type": "ImageObject", "url": "https://img.example/a.png", "name": "Site logo"}]}')
    tree = lxml_html.fromstring(f"<html><head><script type='application/ld+json'>{ld}</script>"
                                "</head><body></body></html>")
    assert images.jsonld_captions(tree) == [
        ("https://img.example/2024/10/16/P01-317.jpg",
         "Marines from both countries rehearse a beach landing near the port", None)]


def test_cli_extract_takes_the_zone_from_the_page(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from feeder.cli import main

    body = "<p>Một đoạn văn bản đủ dài của bài báo để có nội dung bài viết.</p>" * 4
    vn = tmp_path / "vn.html"
    vn.write_text("<html lang='vi'><head><title>Tin mới</title></head><body><article>"
                  "<h1>Tin mới</h1><div class='date'>22/12/2020 17:05</div>" + body
                  + "</article></body></html>",
                  encoding="utf-8")
    en = tmp_path / "en.html"
    en.write_text("<html lang='en-GB'><head><title>News</title></head><body><article>"
                  "<h1>News</h1><div class='date'>22 December 2020 17:05</div>"
                  + "<p>A long enough paragraph of the article for there to be content.</p>" * 4
                  + "</article></body></html>", encoding="utf-8")
    assert main(["extract", str(vn)]) == 0
    assert json.loads(capsys.readouterr().out)["published"] == "2020-12-22T17:05:00+07:00"
    assert main(["extract", str(en)]) == 0
    assert json.loads(capsys.readouterr().out)["published"] == "2020-12-22T17:05:00+00:00"
    assert main(["extract", "--timezone", "Europe/London", str(en)]) == 0
    assert json.loads(capsys.readouterr().out)["published"] == "2020-12-22T17:05:00+00:00"
    assert main(["extract", "--timezone", "Asia/Tokyo", str(en)]) == 0
    assert json.loads(capsys.readouterr().out)["published"] == "2020-12-22T17:05:00+09:00"


def test_paragraphs_right_in_the_body_are_the_article() -> None:
    from feeder.extract import extract

    page = ("<html><head><title>Bare page</title></head><body><h1>Bare page</h1>"
            + "".join(f"<p>Paragraph {n} sits right in the body element, with no wrapper at "
                      "all.</p>" for n in range(4))
            + "</body></html>")
    art = extract(page, "https://bare.example/page", timezone="UTC")
    assert art.title == "Bare page" and art.content_text.count("sits right in the body") == 4


def test_page_that_names_itself_nowhere_is_titled_by_its_opening_sentence() -> None:
    from feeder.extract import extract

    body = ("<html><body><p>Under extreme conditions quarks may become deconfined and exist as "
            "free particles. The strong interaction becomes weaker at higher temperatures.</p>"
            "<p>Eventually colour confinement would be lost and a hot plasma would form.</p>"
            "</body></html>")
    record = extract(body, "https://physics.example/notes/7")
    assert record.title == ("Under extreme conditions quarks may become deconfined and exist as "
                            "free particles.")
    assert record.provenance["title"] == "text-start"
    long = "<html><body><p>" + "word " * 60 + "</p></body></html>"
    cut = extract(long, "https://physics.example/notes/8").title
    assert cut.endswith("…") and len(cut) <= 91 and not cut.startswith(" ")

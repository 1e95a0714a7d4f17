"""Golden pages: small hand-written pages, each paired with the exact record fields expected.

Every ``tests/golden/extract/NAME.html`` has a ``NAME.json`` with the page ``url``, optionally the
source ``timezone`` and an HTTP ``header_charset`` (to replay a wrong header), and ``expect``: the
record fields as they must come out. The expected values were written and checked by hand from
the page text, not dumped from the extractor.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeder.charset import decode_html
from feeder.errors import ExtractError
from feeder.extract import extract

GOLDEN = Path(__file__).parent / "golden" / "extract"
CASES = sorted(GOLDEN.glob("*.json"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_page(case: Path) -> None:
    spec = json.loads(case.read_text(encoding="utf-8"))
    body = case.with_suffix(".html").read_bytes()
    page: str | bytes = body
    if spec.get("header_charset"):
        page = decode_html(body, spec["header_charset"])[0]
    record = extract(page, spec["url"], timezone=spec.get("timezone", "Asia/Ho_Chi_Minh"))
    got = record.to_dict()
    for field, want in spec["expect"].items():
        assert got[field] == want, f"{case.stem}: {field}"
    assert "<script" not in record.content_html
    assert record.provenance.get("title")


def test_there_are_goldens() -> None:
    assert len(CASES) >= 6


def test_page_without_article_raises() -> None:
    with pytest.raises(ExtractError) as info:
        extract(b"<html><body><ul><li><a href='/'>Home</a></li></ul></body></html>",
                "https://example.org/")
    assert info.value.url == "https://example.org/"


def test_same_result_from_bytes_and_text() -> None:
    body = (GOLDEN / "vn-credit-line.html").read_bytes()
    url = "https://baosonglam.example/a.html"
    assert extract(body, url) == extract(body.decode("utf-8"), url)

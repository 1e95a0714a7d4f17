"""Sample sources and articles for the publish, serve, nginx and newsboat tests.

Shaped like a Vietnamese provincial newspaper: titles with diacritics, bylines in capitals,
times at +07:00, lead images with captions. Imported by the other test modules (this file holds
builders, plus a check that the samples stay varied enough to mean something).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from feeder.config import Settings, Source
from feeder.model import Article, Image, SourceFeed, SourceHealth
from feeder.publish import publish_site, publish_source

VN = timezone(timedelta(hours=7), "ICT")
BASE_URL = "http://127.0.0.1:8080/"

CA_MAU = Source(id="baocamau", name="Báo Cà Mau", urls=("https://baocamau.example.vn/thoi-su/",),
                interval=timedelta(minutes=15), max_items=20)
HAU_GIANG = Source(id="baohaugiang", name="Báo Hậu Giang",
                   urls=("https://baohaugiang.example.vn/kinh-te/",), interval=timedelta(hours=1),
                   description="Tin kinh tế tỉnh Hậu Giang")

_TITLES = (
    "Khánh thành cầu Rạch Ráng nối đôi bờ sông Cái Tàu",
    "Nông dân U Minh trúng mùa lúa - tôm",
    "Đường về Đất Mũi thông xe trước Tết",
    "Hội thi “Sức khỏe mùa xuân” thu hút hơn 1.000 vận động viên",
    "Giá cá thòi lòi tăng mạnh dịp cuối năm",
)
_AUTHORS = (("TRÍ NHÂN",), ("HOÀNG VŨ", "Mỹ Linh"), ("NGỌC ÁNH",), (), ("Thanh Tâm",))


def article(source: Source, n: int, **changes: object) -> Article:
    """The ``n``-th sample article of ``source`` (newer for smaller ``n``)."""
    # Sources publish at different minutes: equal Atom "updated" values in the combined feed
    # would be a (legitimate, but noisy) W3C validator warning, see deploy/README.md.
    minute = 5 if source.id == CA_MAU.id else 12
    base = datetime(2020, 12, 22, 17, minute, tzinfo=VN) - timedelta(hours=3 * n)
    url = f"{source.home}tin-tuc/bai-viet-{source.id}-{n}.html"
    title = _TITLES[n % len(_TITLES)]
    fields: dict[str, object] = {
        "url": url,
        "title": f"{title} ({n})",
        "source": source.id,
        "summary": f"Ngày 22/12, tin số {n} của {source.name}.",
        "content_html": (
            f"<p>Ngày 22/12, tin số {n} của {source.name}.</p>"
            f'<figure><img src="{source.home}uploads/{n}.jpg" alt="Ảnh {n}">'
            "<figcaption>Toàn cảnh buổi lễ. Ảnh: TRÍ NHÂN</figcaption></figure>"
            "<p>Nội dung chi tiết &amp; đầy đủ.</p>"),
        "content_text": f"Ngày 22/12, tin số {n} của {source.name}. Nội dung chi tiết & đầy đủ.",
        "authors": _AUTHORS[n % len(_AUTHORS)],
        "published": base,
        "updated": base + timedelta(minutes=30) if n % 2 else None,
        "language": "vi",
        "categories": ("Thời sự",),
        "images": (Image(url=f"{source.home}uploads/{n}.jpg",
                         caption="Toàn cảnh buổi lễ", credit="TRÍ NHÂN", alt=f"Ảnh {n}"),),
    }
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


def sample_feeds() -> list[SourceFeed]:
    """Two sources: one healthy with 6 articles, one failing with 3."""
    ca_mau = tuple(article(CA_MAU, n) for n in range(6))
    hau_giang = tuple(article(HAU_GIANG, n) for n in range(3))
    checked = datetime(2020, 12, 22, 11, 0, tzinfo=UTC)
    return [
        SourceFeed(CA_MAU, ca_mau, SourceHealth(
            source=CA_MAU.id, last_poll=checked, last_success=checked, item_count=6,
            next_due=checked + CA_MAU.interval)),
        SourceFeed(HAU_GIANG, hau_giang, SourceHealth(
            source=HAU_GIANG.id, last_poll=checked, last_success=checked - timedelta(hours=5),
            last_error="https://baohaugiang.example.vn/kinh-te/: HTTP 503",
            consecutive_failures=3, item_count=3, next_due=checked + timedelta(hours=2))),
    ]


def settings_for(out: Path, base_url: str = BASE_URL) -> Settings:
    return Settings(out=out, base_url=base_url)


def publish_all(out: Path, base_url: str = BASE_URL,
                feeds: list[SourceFeed] | None = None) -> list[Path]:
    """Publish every sample source and the site into ``out``; return what changed."""
    settings = settings_for(out, base_url)
    feeds = sample_feeds() if feeds is None else feeds
    changed: list[Path] = []
    for feed in feeds:
        changed += publish_source(settings, feed)
    changed += publish_site(settings, feeds)
    return changed


def test_samples_are_varied() -> None:
    arts = [a for f in sample_feeds() for a in f.articles]
    assert len({a.id for a in arts}) == len(arts)
    assert any(len(a.authors) > 1 for a in arts) and any(not a.authors for a in arts)
    assert any(a.updated for a in arts) and any(a.updated is None for a in arts)
    assert all(a.published and a.published.utcoffset() == timedelta(hours=7) for a in arts)

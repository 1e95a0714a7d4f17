"""feeder.discover: the demo newspaper served on 127.0.0.1, and small pages for each rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feeder.config import Settings, Source
from feeder.discover import is_article_url, links
from feeder.discover.articles import other_section
from feeder.fetch import Fetcher
from feeder.model import Page
from tests.support.http import LoopbackServer

SITE = Path(__file__).resolve().parent.parent / "demo" / "site"
BASE = "http://bao.example/"

DEMO_HOME_ARTICLES = [
    "phap-luat/khoi-to-doi-tuong-lua-dao-chiem-doat-tien-qua-mang-10262.html",
    "the-thao/doi-bong-da-tan-phuoc-gianh-ve-thang-hang-nhi-quoc-gia-10256.html",
    "van-hoa/lien-hoan-don-ca-tai-tu-tinh-tan-phuoc-lan-thu-v-10250.html",
    "xa-hoi/khanh-thanh-cau-binh-hoa-noi-lien-hai-xa-cu-lao-10245.html",
    "kinh-te/nong-dan-my-loi-trung-mua-lua-thu-dong-10241.html",
    "thoi-su/dang-uy-cong-an-tinh-tong-ket-cong-tac-dang-nam-2020-10234.html",
]


def source(url: str = BASE, selector: str | None = None) -> Source:
    return Source(id="demo", name="Demo", urls=(url,), link_selector=selector)


def page(html: str, url: str = BASE) -> Page:
    return Page(url=url, final_url=url, status=200, content=html.encode(), text=html,
                encoding="utf-8")


def urls(found: tuple) -> list[str]:
    return [link.url for link in found]


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[LoopbackServer, Fetcher]]:
    """demo/site served from 127.0.0.1 with its own files, fetched by the real Fetcher."""
    with LoopbackServer() as srv:
        for path in SITE.rglob("*"):
            if path.is_file():
                rel = "/" + path.relative_to(SITE).as_posix()
                ctype = "text/plain" if path.suffix == ".txt" else "text/html; charset=utf-8"
                srv.route(rel, path.read_bytes(), headers={"Content-Type": ctype})
                if path.name == "index.html":
                    srv.route(rel.removesuffix("index.html"), path.read_bytes())
        with Fetcher(Settings(host_delay=0)) as fetcher:
            yield srv, fetcher


# -- the demo site --------------------------------------------------------------------------

def test_demo_home_page_main_list_only(demo: tuple[LoopbackServer, Fetcher]) -> None:
    srv, fetcher = demo
    listing = fetcher.get(srv.url("/"), kind="listing", allow_private=True)
    assert isinstance(listing, Page)
    found = links(listing, source(srv.url("/")))
    # The main list, in its order: the sidebar's "Đọc nhiều" repeats two of these (kept at their
    # main-list place) and adds an older article (ignored); menu, topics, pagination, ads and the
    # footer's article link are ignored; ?utm_... and #binh-luan are stripped and de-duplicated.
    assert urls(found) == [srv.url("/" + p) for p in DEMO_HOME_ARTICLES]
    assert found[0].text == "Khởi tố đối tượng lừa đảo chiếm đoạt tiền qua mạng xã hội"
    assert all("10102" not in u and "10001" not in u for u in urls(found))


def test_demo_category_page(demo: tuple[LoopbackServer, Fetcher]) -> None:
    srv, fetcher = demo
    listing = fetcher.get(srv.url("/thoi-su/"), kind="listing", allow_private=True)
    assert isinstance(listing, Page)
    found = links(listing, source(srv.url("/thoi-su/")))
    assert [u.rsplit("-", 1)[-1] for u in urls(found)] == [
        "10234.html", "10102.html", "10088.html", "10071.html", "10035.html"]


def test_demo_article_page_has_no_listing_links(demo: tuple[LoopbackServer, Fetcher]) -> None:
    # "Tin liên quan", the share bar, tags and the sidebar are all furniture.
    srv, fetcher = demo
    url = srv.url("/" + DEMO_HOME_ARTICLES[-1])
    article = fetcher.get(url, allow_private=True)
    assert isinstance(article, Page)
    assert links(article, source(srv.url("/"))) == ()


def test_demo_link_selector(demo: tuple[LoopbackServer, Fetcher]) -> None:
    srv, fetcher = demo
    listing = fetcher.get(srv.url("/"), kind="listing", allow_private=True)
    assert isinstance(listing, Page)
    found = links(listing, source(srv.url("/"), ".col-right .list-top li"))
    assert [u.rsplit("-", 1)[-1] for u in urls(found)] == ["10234.html", "10102.html",
                                                           "10245.html"]


# -- small pages ----------------------------------------------------------------------------

LISTING = """<!doctype html><html><head><title>Tin mới - Báo Mẫu</title></head><body>
<div class="col-right">
  <div class="box"><div class="box-head"><span>Đọc nhiều</span></div>
    <ul><li><a href="/xa-hoi/bai-thu-hai-cua-danh-sach-chinh-2002.html">Bài thứ hai</a></li>
        <li><a href="/xa-hoi/bai-cu-duoc-doc-nhieu-nhat-tuan-truoc-1001.html">Bài cũ</a></li></ul>
  </div>
</div>
<header id="top">
  <a href="/"><img src="/logo.png" alt="Báo Mẫu"></a>
  <ul class="main-menu"><li><a href="/thoi-su/">Thời sự</a></li>
    <li><a href="/dac-biet/tuyen-tap-phong-su-dac-biet-ve-mua-nuoc-noi-9999.html">Đặc biệt</a></li>
  </ul>
</header>
<div class="breadcrumb"><a href="/thoi-su/bai-trong-duong-dan-dieu-huong-7777.html">x</a></div>
<div id="content">
  <div class="list-news">
    <article><header><h2><a
      href="/thoi-su/bai-dau-tien-cua-danh-sach-chinh-2001.html?utm_source=home&amp;fbclid=abc#top">
      Bài đầu tiên của danh sách chính</a></h2></header></article>
    <div class="item">
      <a href="xa-hoi/bai-thu-hai-cua-danh-sach-chinh-2002.html"><img src="a.jpg"></a>
      <h3><a href="/xa-hoi/bai-thu-hai-cua-danh-sach-chinh-2002.html#comments">
        Bài thứ hai của danh sách chính</a></h3></div>
    <div class="item"><h3><a href="https://bao.example/kinh-te/2024/06/12/gia-lua-tang/">
      Giá lúa tăng mạnh trong tuần qua ở nhiều địa phương</a></h3></div>
    <div class="item"><h3><a href="https://other.example/tin/bai-cua-trang-khac-3003.html">
      Bài của trang khác</a></h3></div>
  </div>
  <div class="tags">Từ khóa: <a href="/tu-khoa/bai-viet-co-tu-khoa-5005.html">x</a></div>
  <p>Chủ đề: <a href="/chu-de/chuyen-doi-so-tren-dia-ban-tinh-124.html">Chuyển đổi số</a>
     <a href="/tag/nong-thon-moi">Nông thôn mới</a> <a href="/thoi-su/page/2/">2</a>
     <a href="/thoi-su/?page=3">3</a> <a href="/thoi-su/trang-4.html">4</a>
     <a href="/thoi-su/">Thời sự</a> <a href="javascript:void(0)">In</a>
     <a href="mailto:toasoan@bao.example">Email</a> <a href="/images/anh-lon-12345.jpg">Ảnh</a></p>
  <div class="qc"><a href="/quang-cao-ban-nha-dat-gia-re-6006.html">QC</a></div>
  <section class="related-news"><h3>Tin khác</h3>
    <a href="/thoi-su/bai-lien-quan-trong-hop-class-8008.html">Liên quan</a></section>
</div>
<aside><a href="/thoi-su/bai-trong-aside-8888.html">Aside</a></aside>
<nav><a href="/thoi-su/bai-trong-nav-6666.html">Nav</a></nav>
<footer><a href="/gioi-thieu-ve-toa-soan-bao-mau-tu-nam-1975.html">Giới thiệu</a>
  <a href="/thoi-su/bai-o-footer-4004.html">Bài ở footer</a></footer>
</body></html>"""


def test_automatic_discovery_on_a_busy_listing() -> None:
    found = links(page(LISTING), source())
    assert urls(found) == [
        "http://bao.example/thoi-su/bai-dau-tien-cua-danh-sach-chinh-2001.html",
        "http://bao.example/xa-hoi/bai-thu-hai-cua-danh-sach-chinh-2002.html",
        "https://bao.example/kinh-te/2024/06/12/gia-lua-tang/",
    ]
    # Whitespace collapsed; the headline wins over an empty image link to the same article.
    assert found[0].text == "Bài đầu tiên của danh sách chính"
    assert found[1].text == "Bài thứ hai của danh sách chính"


def test_headline_text_beats_an_earlier_image_alt() -> None:
    html = """<main><div class="item">
      <a href="/xa-hoi/cau-moi-noi-lien-hai-xa-cu-lao-4321.html">
        <img src="c.jpg" alt="Ảnh minh họa"></a>
      <h3><a href="/xa-hoi/cau-moi-noi-lien-hai-xa-cu-lao-4321.html">
        Cầu mới nối liền hai xã</a></h3>
      </div><div class="item">
      <a href="/xa-hoi/chi-co-anh-khong-co-tieu-de-4322.html"><img src="d.jpg" alt="Chỉ có ảnh"></a>
    </div></main>"""
    found = links(page(html), source())
    assert [link.text for link in found] == ["Cầu mới nối liền hai xã", "Chỉ có ảnh"]


def test_base_href_and_relative_links() -> None:
    html = """<html><head><base href="http://bao.example/tin/"></head><body><main>
      <a href="thoi-su/bai-viet-tuong-doi-co-ma-so-123456.html">Bài viết có đường dẫn tương đối</a>
      <a href="../kinh-te/bai-viet-thu-hai-co-ma-so-123457.htm">Bài viết thứ hai</a>
    </main></body></html>"""
    assert urls(links(page(html, "http://bao.example/tin/index.php"), source())) == [
        "http://bao.example/tin/thoi-su/bai-viet-tuong-doi-co-ma-so-123456.html",
        "http://bao.example/kinh-te/bai-viet-thu-hai-co-ma-so-123457.htm",
    ]


def test_www_and_final_url_count_as_the_same_site() -> None:
    html = """<main><a href="https://www.bao.example/the-thao/doi-nha-thang-dam-tran-mo-man-3210.html">
      Đội nhà thắng đậm trận mở màn</a></main>"""
    listing = Page(url="http://bao.example/", final_url="https://www.bao.example/", status=200,
                   content=b"", text=html, encoding="utf-8")
    assert urls(links(listing, source())) == [
        "https://www.bao.example/the-thao/doi-nha-thang-dam-tran-mo-man-3210.html"]


def test_link_selector_on_anchors_and_containers() -> None:
    by_anchor = links(page(LISTING), source(selector=".list-news h3 a"))
    assert urls(by_anchor) == [
        "http://bao.example/xa-hoi/bai-thu-hai-cua-danh-sach-chinh-2002.html",
        "https://bao.example/kinh-te/2024/06/12/gia-lua-tang/",
        "https://other.example/tin/bai-cua-trang-khac-3003.html",  # the selector decides
    ]
    by_container = links(page(LISTING), source(selector="div.list-news > article"))
    assert urls(by_container) == [
        "http://bao.example/thoi-su/bai-dau-tien-cua-danh-sach-chinh-2001.html"]
    assert links(page(LISTING), source(selector=".nothing-matches")) == ()


def test_sidebar_box_detected_by_heading_even_without_classes() -> None:
    html = """<body><div><div>
      <div><h4>Tin liên quan</h4><p><a href="/a/bai-lien-quan-thu-nhat-5551.html">Một</a></p>
        <p><a href="/a/bai-lien-quan-thu-hai-5552.html">Hai</a></p></div>
      <div><h4>Tin mới</h4>
        <p><a href="/a/bai-moi-nhat-trong-ngay-hom-nay-5553.html">Ba</a></p></div>
    </div></div></body>"""
    assert urls(links(page(html), source())) == [
        "http://bao.example/a/bai-moi-nhat-trong-ngay-hom-nay-5553.html"]


def test_empty_and_linkless_pages() -> None:
    assert links(page("<html><body><p>Không có bài</p></body></html>"), source()) == ()
    assert links(page(""), source()) == ()


@pytest.mark.parametrize("url", [
    "http://bao.example/thoi-su/dang-uy-cong-an-tinh-tong-ket-cong-tac-dang-10234.html",
    "http://bao.example/thoi-su/20201222170500123.htm",
    "http://bao.example/2020/12/22/hoi-nghi-tong-ket/",
    "http://bao.example/tin-tuc/hoi-nghi-tong-ket-cong-tac-dang-nam-2020-cua-cong-an-tinh",
    "http://bao.example/news.php?id=12345&cat=2&slug=hoi-nghi-tong-ket-cong-tac-dang",
    "http://bao.example/?p=128314",
    "http://bao.example/technology/2026/mar/08/billionaires-tech-oligarchs",
    "http://bao.example/swiat/trwaja-walki-w-ukrainie-relacja-na-zywo/pjfesq4",
    "http://bao.example/home/wirtschaft/international/4918503/index",
])
def test_article_urls(url: str) -> None:
    assert is_article_url(url, "Đảng ủy Công an tỉnh tổng kết công tác Đảng năm 2020") or \
        is_article_url(url)


@pytest.mark.parametrize("url", [
    "http://bao.example/",
    "http://bao.example/thoi-su/",
    "http://bao.example/thoi-su/index.html",
    "http://bao.example/the-thao/bong-da/",
    "http://bao.example/tag/cong-an-tinh-tong-ket-10234.html",
    "http://bao.example/chu-de/chuyen-doi-so-124.html",
    "http://bao.example/thoi-su/page/2/",
    "http://bao.example/thoi-su/trang-2.html",
    "http://bao.example/thoi-su/?page=2",
    "http://bao.example/?p=2",
    "http://bao.example/tac-gia/tri-nhan-1234",
    "http://bao.example/images/2020/12/anh-hoi-nghi-10234.jpg",
    "http://bao.example/rss/thoi-su-2020.xml",
    "http://bao.example/lien-he.html",
    "mailto:toasoan@bao.example",
])
def test_not_article_urls(url: str) -> None:
    assert not is_article_url(url, "Một dòng chữ đủ dài để trông như một tiêu đề bài báo")


# -- layouts of real listing pages, written small ---------------------------------------------

PORTAL = """<html><body><div id="nav-col"><div class="top"><a href="/">Portal</a></div>
  <div class="stream"><ul>
    <li><h3><a href="https://news.portal.example/plane-crash-in-the-desert-093510948.html">
      Passenger plane crashes in the desert</a></h3></li>
    <li><h3><a href="https://sport.portal.example/cup-final-ends-in-a-draw-082734514.html">
      Cup final ends in a draw</a></h3></li>
    <li><h3><a href="https://www.portal.example/news/articles/c9wnex8g5dyo">
      Storm closes the coast road</a></h3></li>
  </ul></div>
  <div class="box"><h2><a href="/ranking/">Meistgelesen</a></h2>
    <ol><li><a href="https://news.portal.example/old-story-read-by-many-071234567.html">Old</a></li>
        <li><a href="https://news.portal.example/another-old-story-072345678.html">Also</a></li></ol>
  </div>
  <div class="box"><h3>Les plus partagés</h3>
    <a href="https://www.portal.example/2024/05/01/shared-story/">Shared story of the week</a></div>
  <a href="https://other.example/news/plane-crash-in-the-desert-093510948.html">elsewhere</a>
</div></body></html>"""


def test_portal_sections_on_subdomains_and_boxes_in_other_languages() -> None:
    # The whole page sits in a wrapper whose id says "nav": it holds the listing, so it counts.
    found = links(page(PORTAL, "https://www.portal.example/"),
                  source("https://www.portal.example/"))
    assert urls(found) == [
        "https://news.portal.example/plane-crash-in-the-desert-093510948.html",
        "https://sport.portal.example/cup-final-ends-in-a-draw-082734514.html",
        "https://www.portal.example/news/articles/c9wnex8g5dyo",
    ]


CARDS = """<main><section class="latest">
  <article class="post tag-elephants category-science"><h2>
    <a href="/science/2026/03/hunting-for-ghost-elephants/">Hunting for ghost elephants</a></h2>
  </article>
  <article class="post tag-space"><h2>
    <a href="/space/2026/03/upper-stage-is-dead/">The upper stage is dead</a></h2></article>
  <article class="post"><h2><a href="/story/2000108147290/der-glorifizierte-mann">Der Mann</a>
  </h2></article>
  <article class="post"><h2>
    <a href="/2014/07/24/world/africa/air-algerie-flight/index.html">Air Algérie flight lost</a>
  </h2></article>
</section></main>"""


def test_teaser_cards_with_taxonomy_classes_and_story_folders() -> None:
    assert urls(links(page(CARDS), source())) == [
        "http://bao.example/science/2026/03/hunting-for-ghost-elephants/",
        "http://bao.example/space/2026/03/upper-stage-is-dead/",
        "http://bao.example/story/2000108147290/der-glorifizierte-mann",
        "http://bao.example/2014/07/24/world/africa/air-algerie-flight/index.html",
    ]


def columns(side_class: str, side_items: int, main_class: str = "col-main") -> str:
    main = "".join(f'<li><a href="/tin/bai-chinh-so-{i}-trong-danh-sach-{1000 + i}.html">'
                   f"Bài chính số {i} trong danh sách</a></li>" for i in range(6))
    side = "".join(f'<li><a href="/tin/bai-cot-phu-so-{i}-cua-trang-{2000 + i}.html">'
                   f"Bài cột phụ số {i}</a></li>" for i in range(side_items))
    return (f'<div class="row"><div class="{main_class}"><ul>{main}</ul></div>'
            f'<div class="{side_class}"><ul>{side}</ul></div></div>')


@pytest.mark.parametrize(("side_class", "side_items", "main_class", "kept"), [
    ("colSub", 4, "col-main", 6),       # a secondary column beside a bigger one
    ("right-rail", 5, "col-main", 6),
    ("col_droite", 3, "col-a", 6),      # named by place only, and half the size: secondary
    ("col-right", 4, "col-a", 10),      # named by place only, comparable: a second main column
    ("col-right", 4, "col-left", 10),   # left and right, comparable: two main columns
    ("col-right", 4, "col-main", 6),    # ... unless the bigger one names itself the main column
    ("left-col", 5, "center-col", 6),
    ("col-sub", 8, "col-main", 14),     # the "side" column is the bigger one: not a sidebar
    ("box-sub", 4, "col-main", 10),     # a box's sub-list, not a column
    ("col-small", 2, "col-main", 8),    # two links are a teaser pair, not a column
])
def test_secondary_columns(side_class: str, side_items: int, main_class: str, kept: int) -> None:
    html = columns(side_class, side_items, main_class)
    assert len(links(page(html), source())) == kept


def test_short_slugs_vouched_for_by_their_folder() -> None:
    # "/news/Wine-11.4-Released" alone is too short to be sure of; beside three clear articles
    # in the same folder it is one of them. The lone short link in another folder is not.
    items = ["linux-kernel-brings-new-scheduler-options-for-servers",
             "mesa-driver-adds-ray-tracing-support-on-older-cards",
             "fedora-shares-strategy-for-the-next-three-releases", "Wine-11.4-Released"]
    html = "<main>" + "".join(f'<p><a href="/news/{slug}">{slug.replace("-", " ")} with more '
                              "improvements</a></p>" for slug in items)
    html += '<p><a href="/reviews/GTK-4.22-Released">GTK 4.22 released with many changes</a></p>'
    assert urls(links(page(html + "</main>"), source())) == [
        f"http://bao.example/news/{slug}" for slug in items]


def test_ranked_boxes_and_headed_boxes_in_other_languages() -> None:
    html = """<main><section><h2>Kinh tế</h2>
      <ul><li><a href="/kinh-te/gia-lua-tang-manh-trong-tuan-qua-1001.html">Giá lúa tăng mạnh</a>
          </li>
          <li><a href="/kinh-te/xuat-khau-thuy-san-phuc-hoi-1002.html">Xuất khẩu phục hồi</a></li>
      </ul></section>
      <div class="w160"><ol>
        <li><span>1</span><a href="/xa-hoi/bai-duoc-doc-nhieu-thu-nhat-2001.html">Một</a></li>
        <li><span>2</span><a href="/xa-hoi/bai-duoc-doc-nhieu-thu-hai-2002.html">Hai</a></li>
        <li><span>3</span><a href="/kinh-te/gia-lua-tang-manh-trong-tuan-qua-1001.html">Ba</a></li>
      </ol></div>
      <div><div class="title"><h2><a href="/ranking/">アクセスランキング</a></h2>
        <a href="/ranking/">もっと見る</a></div>
        <ul><li><a href="/articles/ASN9M05ZGN9LUTIL025.html">記事</a></li></ul></div>
      <div><h3>Les plus partagés</h3>
        <p><a href="/societe/article/2016/01/31/un-article-partage_4857.html">Partagé</a></p></div>
      <div><h3>Δείτε επίσης</h3>
        <p><a href="/live/news.php?lang=173&amp;newid=13177&amp;cat=155">Δείτε</a></p></div>
    </main>"""
    # The ranking repeats a main-list story: it keeps its main-list place and text.
    found = links(page(html), source())
    assert urls(found) == ["http://bao.example/kinh-te/gia-lua-tang-manh-trong-tuan-qua-1001.html",
                           "http://bao.example/kinh-te/xuat-khau-thuy-san-phuc-hoi-1002.html"]
    assert found[0].text == "Giá lúa tăng mạnh"


def test_a_numbered_news_stream_that_holds_the_listing_is_kept() -> None:
    items = "".join(f'<li><b>{i}</b> <a href="/tin/bai-so-{i}-trong-dong-tin-moi-{3000 + i}.html">'
                    f"Bài số {i} trong dòng tin mới</a></li>" for i in range(1, 8))
    html = f'<main><ol class="stream">{items}</ol><div class="sidebar"><a ' \
           f'href="/tin/bai-ben-le-cua-trang-4001.html">Bài bên lề của trang tin</a></div></main>'
    assert len(links(page(html), source())) == 7


# -- whole pages of typical layouts (tests/listings/*.html, written for these tests) -----------

LAYOUTS = Path(__file__).resolve().parent / "listings"


def layout(name: str, url: str) -> tuple[str, ...]:
    """The paths of the article links found on the page served at ``url``."""
    html = (LAYOUTS / name).read_text(encoding="utf-8")
    origin = url.split("/", 3)[:3]
    return tuple(link.url.removeprefix("/".join(origin))
                 for link in links(page(html, url), source(url)))


HOME_ARTICLES = (
    "/thoi-su/khanh-thanh-cau-noi-hai-xa-cu-lao-2026030712000001.htm",
    "/thoi-su/nguoi-dan-vui-mung-don-cau-moi-2026030712000002.htm",
    "/xa-hoi/cho-noi-nhon-nhip-tro-lai-sau-tet-2026030712000003.htm",
    "/kinh-te/gia-lua-thu-dong-tang-manh-2026030712000004.htm",
    "/kinh-te/xuat-khau-trai-cay-dat-ky-luc-2026030712000005.htm",
    "/the-thao/doi-bong-tinh-len-hang-nhat-2026030712000006.htm",
    "/the-thao/giai-dua-ghe-ngo-mua-nuoc-noi-2026030712000007.htm",
)
CATEGORY_ARTICLES = tuple(f"/science/2026/03/{day}/" for day in (
    "07/ghost-elephants-found-in-angola", "06/a-unicorn-like-dinosaur-in-the-sahara",
    "06/the-upper-stage-that-never-flew", "05/why-bees-dance-in-circles",
    "05/a-comet-returns-after-400-years"))
LAZY_ARTICLES = ("/wirtschaft/strompreise-sinken-im-fruehjahr-1.2849393",
                 "/wirtschaft/haefen-melden-rekordumschlag-1.2849394",
                 "/wirtschaft/mittelstand-sucht-fachkraefte-1.2849395")

THREE_COLUMN_ARTICLES = tuple(f"/kinh-te/{slug}.htm" for slug in (
    "gia-lua-thu-dong-tang-manh-2026030712000001",
    "xuat-khau-trai-cay-dat-ky-luc-2026030712000002",
    "popular-uprising-of-prices-at-the-rice-market-2026030712000003",
    "hop-tac-xa-nuoi-tom-lai-lon-2026030712000004",
    "cang-ca-mua-vu-moi-nhon-nhip-202603071200005",
    "nong-dan-chuyen-doi-cay-trong-202603071200006",
    "cho-dau-moi-keo-dai-gio-ban-202603071200007"))


BOOTSTRAP_ARTICLES = tuple(f"/kinh-te/{path}.html" for path in (
    "nong-dan-trung-mua-lua-thu-dong-2026030700101",
    "cang-ca-nhon-nhip-mua-vu-moi-2026030700102", "tau-ca-xa-bo-duoc-mua-ca-com-2026022800071",
    "xuat-khau-trai-cay-dat-ky-luc-2026030600103", "sau-rieng-vao-mua-thu-hoach-2026022500072",
    "hop-tac-xa-nuoi-tom-lai-lon-2026030600104", "cho-dau-moi-keo-dai-gio-ban-2026030500105",
    "gia-rau-xanh-ha-nhiet-2026022000073", "nong-nghiep/giong-lua-moi-chiu-man-2026030400106",
    "nong-nghiep/tuoi-tiet-kiem-cho-vuon-cay-2026030400107"))


@pytest.mark.parametrize(("name", "url", "expected"), [
    # Top story with its sub-stories and every section block; not the mega-menu teaser, the
    # ticker, the numbered "Xem nhiều" box (its one main-list story keeps its place), the footer.
    ("home-sections.html", "https://baomau.vn/", HOME_ARTICLES),
    # The featured story and the list; not the rail of another section beside them.
    ("category-featured.html", "https://times.example/science/", CATEGORY_ARTICLES),
    # Only the first three teasers are in the HTML; the "most read" box beside them is bigger.
    ("lazy-category.html", "https://zeitung.example/wirtschaft/", LAZY_ARTICLES),
    # The centre column: its lead and the list under it ("box-sub"), whose one headline starts
    # like a box title; not the left column of opinion tabs and partners (named only by its
    # place, beside a bigger column named the centre), not the long-titled "Best of" box.
    ("three-columns.html", "https://baomau.vn/kinh-te/", THREE_COLUMN_ARTICLES),
    # A provincial paper's category page on a Bootstrap grid: the featured story, the stream
    # with the related line under some stories, its subsection's box; not the box of the
    # neighbouring section under the stream, nor the narrow "latest news" column.
    ("bootstrap-category.html", "https://baotinh.vn/kinh-te/", BOOTSTRAP_ARTICLES),
])
def test_whole_pages_of_typical_layouts(name: str, url: str, expected: tuple[str, ...]) -> None:
    assert layout(name, url) == expected


def test_a_label_inside_the_listing_is_not_a_box_title() -> None:
    # "Anzeige" marks an empty ad slot between teasers: it heads nothing, the listing stays.
    teasers = [f'<div class="teaser"><a href="/politik/meldung-nummer-{i}-des-tages-1.28{i}0000">'
               f"Meldung Nummer {i} des Tages</a></div>" for i in range(4)]
    html = (f'<div id="content">{teasers[0]}{teasers[1]}<div class="slot"><p>Anzeige</p>'
            f'<div id="tile"></div></div>{teasers[2]}{teasers[3]}</div>')
    assert len(links(page(html), source())) == 4


def unnamed_row(side_markup: str, side_first: bool = False) -> str:
    main = "".join(f'<div class="teaser"><h3><a href="/kinh-te/tin-chinh-so-{i}-cua-trang-'
                   f'{1000 + i}.html">Tin chính số {i} của trang</a></h3></div>'
                   for i in range(6))
    side = "".join(side_markup.format(f'<a href="/xa-hoi/tin-cot-khac-so-{i}-cua-trang-'
                                      f'{2000 + i}.html">Tin cột khác số {i}</a>')
                   for i in range(3))
    columns = [f'<div class="c1">{main}</div>', f'<div class="c2">{side}</div>']
    return '<div class="row">' + "".join(reversed(columns) if side_first else columns) + "</div>"


@pytest.mark.parametrize(("html", "kept"), [
    # An unnamed column after a main column with twice its links, its boxes marked up their own
    # way: a sidebar.
    (unnamed_row('<ul class="box-list"><li>{}</li></ul>'), 6),
    # Marked up like the main column's teasers: more of the listing (a home page's section).
    (unnamed_row('<div class="teaser"><h3>{}</h3></div>'), 9),
    # Before the main column: a featured block above a list, not a sidebar.
    (unnamed_row('<ul class="box-list"><li>{}</li></ul>', side_first=True), 9),
])
def test_unnamed_columns_by_their_teaser_markup(html: str, kept: int) -> None:
    assert len(links(page(html), source())) == kept


def grid_row(main_class: str, main_items: int, side_class: str, side_items: int) -> str:
    """A row of two grid columns in the region that holds the page's listing."""
    main = "".join(f'<li><a href="/thoi-su/tin-cot-rong-so-{i}-hom-nay-{3000 + i}.html">'
                   f"Tin cột rộng số {i} hôm nay</a></li>" for i in range(main_items))
    side = "".join(f'<li><a href="/doi-song/tin-cot-hep-so-{i}-hom-nay-{4000 + i}.html">'
                   f"Tin cột hẹp số {i} hôm nay</a></li>" for i in range(side_items))
    return (f'<div class="container"><div class="row"><div class="{main_class}"><ul>{main}</ul>'
            f'</div><div class="{side_class}"><ul>{side}</ul></div></div></div>')


@pytest.mark.parametrize(("html", "kept"), [
    # Bootstrap: the narrow column beside the wide one is a sidebar ("Tin mới", "Xem nhiều").
    (grid_row("col-md-8", 6, "col-md-4", 4), 6),
    (grid_row("col-lg-9 main", 8, "col-lg-3", 5), 8),
    # Widths in pixels or grid units, as some templates name their columns.
    (grid_row("col810 mr20", 7, "col300", 5), 7),
    (grid_row("grid_12 alpha", 5, "grid_6 omega", 3), 5),
    # The narrow column holds more links than the wide one: a "latest" list beside one big
    # lead story, both the listing.
    (grid_row("grid_12 alpha", 3, "grid_6 omega", 6), 9),
    # Equal widths: two main columns.
    (grid_row("col-md-6", 6, "col-md-6", 4), 10),
    # Numbered in order, the numbers are places, not widths (section bins 1, 2).
    (grid_row("col1", 6, "col2", 4), 10),
])
def test_narrow_grid_columns(html: str, kept: int) -> None:
    assert len(links(page(html), source())) == kept


def test_narrow_columns_of_section_blocks_stay() -> None:
    # A home page of three section blocks, each a wide and a narrow column: no block holds the
    # page's listing, so their narrow columns are parts of the sections, not sidebars.
    html = '<div id="home">' + "".join(
        grid_row("col-md-8", 3, "col-md-4", 3).replace("so-", f"khoi-{b}-so-")
        for b in range(3)) + "</div>"
    assert len(links(page(html), source())) == 18


def stream_with_related(related_class: str, items: int = 4) -> str:
    """A category stream whose every story carries one related story under its summary."""
    return '<div class="list-news">' + "".join(
        f'<div class="news-item"><h3><a href="/kinh-te/tin-chinh-so-{i}-trong-dong-{6000 + i}'
        f'.htm">Tin chính số {i} trong dòng</a></h3><p>Tóm tắt của tin.</p>'
        f'<div class="{related_class}"><a href="/kinh-te/tin-lien-quan-den-tin-so-{i}-'
        f'{7000 + i}.htm">Tin liên quan đến tin số {i}</a></div></div>'
        for i in range(items)) + "</div>"


@pytest.mark.parametrize(("html", "kept"), [
    # The "related" line under each story of the stream is part of that story's teaser.
    (stream_with_related("news-item-related"), 8),
    (stream_with_related("related-links"), 8),
    # A featured story above a plain stream is no item of a list: its "related" line is a box.
    ('<div class="featured"><h2><a href="/kinh-te/tin-noi-bat-cua-chuyen-muc-9000.htm">Tin nổi '
     'bật của chuyên mục</a></h2><div class="related"><a href="/kinh-te/tin-cu-lien-quan-9001.htm"'
     '>Tin cũ liên quan đến tin nổi bật</a></div></div>' + stream_with_related("summary"), 9),
])
def test_related_line_under_each_story_of_a_stream(html: str, kept: int) -> None:
    assert len(links(page(html), source())) == kept


def test_related_boxes_of_a_sidebar_stay_out() -> None:
    # Three alike sidebar boxes, each a title and a "related"-named list: the title is no
    # story link, so the lists are boxes, not lines under a story.
    stream = stream_with_related("news-item-related")
    boxes = "".join(f'<div class="widget"><h4>Chủ đề {b}</h4><ul class="related-list">' + "".join(
        f'<li><a href="/xa-hoi/bai-hop-chu-de-{b}-so-{i}-{8000 + 10 * b + i}.htm">Bài hộp '
        f"chủ đề {b} số {i}</a></li>" for i in range(2)) + "</ul></div>" for b in range(3))
    html = f'<div class="wrap"><div class="c1">{stream}</div><div class="c2">{boxes}</div></div>'
    assert len(links(page(html), source())) == 8


def section_block(title: str, href: str, slug: str, items: int = 3) -> str:
    stories = "".join(f'<li><a href="/{slug}/tin-{slug}-so-{i}-trong-khoi-{9100 + i}.htm">Tin '
                      f"{slug} số {i} trong khối</a></li>" for i in range(items))
    return f'<div class="box"><h2><a href="{href}">{title}</a></h2><ul>{stories}</ul></div>'


def category_page(*blocks: str) -> str:
    stream = "".join(f'<div class="story"><h3><a href="/kinh-doanh/tin-kinh-doanh-so-{i}-'
                     f'{9000 + i}.htm">Tin kinh doanh số {i} của chuyên mục</a></h3></div>'
                     for i in range(8))
    return (f'<div class="page"><div class="main"><h1><a href="/kinh-doanh.htm">Kinh doanh</a>'
            f'</h1>{stream}</div><div class="more">{"".join(blocks)}</div></div>')


@pytest.mark.parametrize(("url", "html", "kept"), [
    # A category page: the block of another section beside it is that section's, not this
    # listing's; a block of one of its own subsections is part of it.
    ("https://bao.example/kinh-doanh.htm",
     category_page(section_block("Thể thao", "/the-thao.htm", "the-thao"),
                   section_block("Tài chính", "/kinh-doanh/tai-chinh/", "tai-chinh")), 11),
    # A hub among hubs: the "Space" hub's block on the "Science" hub; a topic page elsewhere on
    # the site ("/autoimmune-diseases") gathers stories of this hub too, and stays.
    ("https://news.example/hub/science",
     category_page(section_block("Space", "/hub/space", "space"),
                   section_block("The dark side of our immune system", "/autoimmune-diseases",
                                 "autoimmune")), 11),
    # A home page: its section blocks are its listing.
    ("https://bao.example/",
     category_page(section_block("Thể thao", "/the-thao.htm", "the-thao"),
                   section_block("Tài chính", "/kinh-doanh/tai-chinh/", "tai-chinh")), 14),
    # A dynamic page names its section in the query: where a block stands is unknown.
    ("https://bao.example/live/index.php?cat=12&page=3",
     category_page(section_block("Thể thao", "/live/news.php?cat=15", "the-thao"),
                   section_block("Giải trí", "/live/news.php?cat=16", "giai-tri")), 14),
])
def test_blocks_of_other_sections(url: str, html: str, kept: int) -> None:
    assert len(links(page(html, url), source(url))) == kept


@pytest.mark.parametrize(("url", "page_url", "other"), [
    ("https://bao.example/the-thao.htm", "https://bao.example/kinh-doanh.htm", True),
    ("https://bao.example/c/tham-van/", "https://bao.example/c/chinh-sach-moi/", True),
    ("https://m.bao.example/the-thao", "https://bao.example/kinh-doanh", True),
    ("https://bao.example/kinh-doanh/tai-chinh.htm", "https://bao.example/kinh-doanh.htm", False),
    ("https://bao.example/kinh-doanh.htm", "https://bao.example/kinh-doanh/tai-chinh.htm", False),
    ("https://bao.example/kinh-doanh/index.html", "https://bao.example/kinh-doanh/", False),
    ("https://bao.example/the-thao.htm", "https://bao.example/", False),
    ("https://bao.example/the-thao.htm", "https://bao.example/home/index.do", False),
    ("https://bao.example/tin-the-thao-2026030712000001.htm", "https://bao.example/kinh-doanh",
     False),
    ("https://other.example/the-thao.htm", "https://bao.example/kinh-doanh.htm", False),
    ("https://bao.example/news.php?cat=15", "https://bao.example/news.php?cat=12", False),
])
def test_other_section(url: str, page_url: str, other: bool) -> None:
    assert other_section(url, page_url) is other


def id_site_category(extra: str, stories: int = 16) -> str:
    """A category page of a site whose stories all carry an id, with ``extra`` in its stream."""
    stream = "".join(f'<div class="story"><h3><a href="/kinh-doanh/tin-so-{i}-cua-chuyen-muc-'
                     f'{202603070000 + i}.htm">Tin số {i} của chuyên mục</a></h3></div>'
                     for i in range(stories))
    return f'<div class="stream">{stream}{extra}</div>'


@pytest.mark.parametrize(("extra", "kept"), [
    # The subsections' row between the stories: short slugs, section names, no id.
    ('<div class="sub-cats"><a href="/kinh-doanh/tai-chinh.htm">Tài chính</a>'
     '<a href="/kinh-doanh/doanh-nghiep.htm">Doanh nghiệp và doanh nhân</a>'
     '<a href="/static/dieu-khoan-su-dung.htm">Điều khoản sử dụng</a></div>', 16),
    # A story of the same site without an id still reads as one: a headline for its text, or
    # a headline's slug.
    ('<div class="story"><h3><a href="/kinh-doanh/chuyen-dong.htm">Giá xăng giảm lần thứ ba '
     'liên tiếp trong tháng</a></h3></div>'
     '<div class="story"><a href="/kinh-doanh/gia-lua-tang-manh-o-nhieu-dia-phuong.htm">Giá lúa'
     '</a></div>', 18),
])
def test_sections_among_the_stories_of_a_site_with_ids(extra: str, kept: int) -> None:
    url = "https://bao.example/kinh-doanh.htm"
    assert len(links(page(id_site_category(extra), url), source(url))) == kept


def test_a_site_without_ids_keeps_its_short_slugs() -> None:
    # Stories named by their slug alone: nothing tells a short one from a section, so none goes.
    stream = "".join(f'<div class="story"><h3><a href="/news/release-number-{i}-of-the-'
                     f'project">Release {i}</a></h3></div>' for i in range(10))
    extra = '<div class="story"><h3><a href="/news/tool-two-released">Tool 2</a></h3></div>'
    html = f'<div class="stream">{stream}{extra}</div>'
    assert len(links(page(html, "https://dev.example/news/"), source("https://dev.example/news/"))
               ) == 11

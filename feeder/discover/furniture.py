"""Page furniture: the parts of a listing page whose links are not the listing's own.

Menus, sidebars, footers, "most read" boxes, share bars, ads. Each judgement is structural or by
common naming, never a site's own markup:

- elements that are furniture by nature (``<nav>``, ``<aside>``, ``<form>``, the page's own
  ``<header>``/``<footer>``) or by landmark role;
- elements whose class or id names furniture (menu, sidebar, footer, most-read, ...), except a
  small part of one story's teaser in a list of alike teasers (the "related" line under each
  story of a stream);
- secondary columns: a column named as one (sidebar, rail, "sub" at the head of its name, small)
  beside a sibling region with more article links; or named only by its place ("right", "left"),
  then at half the size, or beside a bigger sibling that names itself the main or centre column;
- narrow grid columns: a column whose grid class gives it a smaller width than a sibling's
  ("col-md-4" beside "col-md-8", "grid_6" beside "grid_12", "col300" beside "col810") and
  fewer article links, in the region that holds the listing;
- unnamed columns: in a row of columns, one after a column with twice its links, none of whose
  links is marked up like that column's (a home page's section blocks repeat its teasers);
- boxes headed "Most read", "Đọc nhiều", "Meistgelesen", "Les plus lus", "Best of", ... in several
  languages (a heading that links to an article is a story's headline, never a box title);
- rankings: lists whose items are numbered 1, 2, 3 in their text;
- on a section page, boxes titled by a link to a sibling section ("/hub/space" on
  "/hub/science"): that section's stories.

A region that holds most of the page's article links is the listing itself, whatever it is called
(a wrapper named "nav-col", a layout that puts everything in a ``<header>``), so naming and landmark
rules only apply to smaller regions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bs4 import BeautifulSoup, Tag

from feeder.discover.articles import other_section
from feeder.urls import try_clean_url

__all__ = ["Furniture"]

# Class / id tokens that mark page furniture. Matched against whole tokens of the attribute split
# on spaces, '-' and '_' (so "main-menu" and "menu_top" match "menu", "menuitem" does not).
_FURNITURE_TOKENS = frozenset({
    "nav", "navbar", "navigation", "menu", "menubar", "submenu", "megamenu", "breadcrumb",
    "breadcrumbs", "sidebar", "aside", "footer", "topbar", "masthead",
    "pagination", "pager", "paging", "tags", "tag", "tagcloud", "keywords", "share", "social",
    "sharing", "ads", "ad", "advert", "advertisement", "sponsor", "sponsored",
    "qc", "quangcao", "popular", "mostread", "mostviewed", "trending", "related",
    "lienquan", "docnhieu", "xemnhieu", "ranking", "comment", "comments", "login", "search",
    "weather", "copyright", "hotline", "contact", "ticker", "marquee",
})
# Multi-token phrases for the same purpose, matched on the joined class / id value.
_FURNITURE_PHRASES = ("most-read", "most_read", "most-viewed", "most-shared", "most-popular",
                      "most-commented", "doc-nhieu", "xem-nhieu",
                      "tin-lien-quan", "lien-quan", "quang-cao", "site-header", "page-header",
                      "top-header", "header-top", "main-header", "site-footer")
# Class values that label an item's taxonomy ("tag-elections", "category-science"), not its role.
_TAXONOMY_RE = re.compile(r"^(tag|category|cat|post|type|format|status|topic)[-_]", re.IGNORECASE)
# Tokens that name a secondary column ("sidebar", "right-rail"). A column so named is furniture
# when a sibling region holds more of the page's article links: the main column.
_SIDE_TOKENS = frozenset({"side", "sidebar", "rail", "secondary", "small", "narrow", "aside"})
# "Sub" names a column only at the head of a name or after "col" ("Sub", "SubInner", "col-sub");
# after anything else it names a part of a box ("box-sub": the list under a box's lead story).
_COLUMN_WORDS = frozenset({"col", "column"})
# "Right" and "left" say where, not what: two main columns side by side are "left" and "right". A
# column named only by its place is secondary when a sibling holds at least twice its links, or
# when a sibling with more links names itself the main or centre column.
_PLACE_TOKENS = frozenset({"right", "droite", "rechts", "derecha", "destra", "left", "gauche",
                           "izquierda", "sinistra"})
_MAIN_TOKENS = frozenset({"main", "center", "centre", "middle", "primary", "content"})
_MAIN_DEPTH = 2  # levels below a sibling where its main-column name may sit ("wrap > col-main")
_CAMEL_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SIDE_MIN = 3  # links: a column, not one small teaser next to a big one
_FURNITURE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search",
                              "menu", "menubar"})
_ALWAYS_TAGS = frozenset({"form", "script", "style", "noscript", "template", "iframe", "select",
                          "button"})
_LANDMARK_TAGS = frozenset({"nav", "aside"})
# Headings of boxes that list other articles than the listing's own: popularity lists, related
# and "see also" boxes, promotions, "follow us". A vocabulary of the box, in the languages feeder
# meets, matched at the start of a short heading (and anywhere in it for the unspaced scripts).
_BOX_WORDS = (
    # Vietnamese
    "đọc nhiều", "xem nhiều", "tin đọc nhiều", "tin xem nhiều", "được quan tâm", "quan tâm nhiều",
    "tin liên quan", "bài liên quan", "tin cùng chuyên mục", "tin khác", "tin mới cập nhật",
    "có thể bạn quan tâm", "đừng bỏ lỡ",
    # English
    "most read", "most popular", "most viewed", "most watched", "most shared", "most commented",
    "most emailed", "best of", "you may have missed", "in case you missed",
    "popular", "trending", "related", "read more", "read also", "also read", "see also",
    "you may also like", "you might also like", "sponsored", "promoted",
    "partner content", "from our partners", "around the web", "follow us",
    # German
    "meistgelesen", "meist gelesen", "meistgeklickt", "meistkommentiert", "am beliebtesten",
    "beliebt", "auch interessant", "das könnte sie auch interessieren", "mehr zum thema",
    "empfehlungen", "anzeige", "folgen sie uns",
    # French
    "les plus lus", "les plus partagés", "les plus commentés", "les plus populaires",
    "à lire aussi", "lire aussi", "voir aussi", "sur le même sujet", "suivez-nous",
    # Indonesian
    "terpopuler", "populer", "paling banyak dibaca", "terbanyak dibaca", "baca juga",
    "berita terkait", "terkait",
    # Polish, Italian, Spanish, Portuguese
    "najpopularniejsze", "najczęściej czytane", "popularne", "zobacz też", "czytaj także",
    "più letti", "più lette", "più visti", "leggi anche", "potrebbe interessarti",
    "más leídas", "más leído", "lo más visto", "mais lidas", "leia também", "lee también",
    # Greek
    "δημοφιλή", "τα πιο δημοφιλή", "δείτε επίσης", "διαβάστε επίσης", "σχετικά άρθρα",
)
_UNSPACED_WORDS = ("ランキング", "よく読まれて", "関連記事", "人気記事", "সর্বাধিক পঠিত",
                   "আরও পড়ুন", "热门", "相关")
_BOX_HEADING_RE = re.compile(
    r"^\W*(" + "|".join(re.escape(w) for w in _BOX_WORDS) + r")(?!\w)"
    r"|" + "|".join(re.escape(w) for w in _UNSPACED_WORDS), re.IGNORECASE)
_HEADING_LIMIT = 60  # characters: a box title, not a paragraph that mentions one

# A named or landmark region holding at least this share of the page's article links is the
# listing itself.
_LISTING_SHARE = 0.5
# Unnamed columns: at most this many columns with links side by side (left, main, right); the
# main column holds at least twice the links of a secondary one after it.
_ROW_COLUMNS = 3
_FOREIGN_RATIO = 2
_TEASER_DEPTH = 2  # elements around a link that make its teaser's markup
_DIGITS_RE = re.compile(r"\d+")
_WIDER = 1.5  # a grid width this many times another is a wider column
_TEASER_EXTRA = 3  # links: the "related" line of one story, not a box
_REPEAT_MIN = 2  # siblings alike besides an item make it one of a list's items
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BOX_LIMIT = 15  # links: more than a "most read" or related box ever lists


class Furniture:
    """Judges elements of one parsed page (at ``page_url``, its links resolved against ``base``);
    ``weight`` counts article-like links per element."""

    def __init__(self, soup: BeautifulSoup, weight: Mapping[int, int], total: int, base: str,
                 page_url: str) -> None:
        self._weight, self._total = weight, total
        self._memo: dict[int, bool] = {}  # by element id: each ancestor is judged once
        for string in soup.find_all(string=_BOX_HEADING_RE):
            heading = string.parent
            while isinstance(heading, Tag) and heading.name == "a":
                heading = heading.parent  # <h2><a href="/ranking/">Most read</a></h2>
            # A heading that links to an article is a story's headline ("Popular uprising ..."),
            # not a box's title.
            if (isinstance(heading, Tag) and _is_box_heading(heading)
                    and not self._weight.get(id(heading), 0)):
                box = self._box_of(heading)
                # A box is small; a headed column holding most of the page's many links is the
                # listing, whatever its title says ("Recommended" over a home page's stream).
                if box is not None and not (self._holds_listing(box)
                                            and self._weight.get(id(box), 0) > _BOX_LIMIT):
                    self._memo[id(box)] = True

        for box in _ranked_lists(soup):
            if not self._holds_listing(box):
                self._memo[id(box)] = True

        for box in self._other_section_boxes(soup, base, page_url):
            self._memo[id(box)] = True

    def _other_section_boxes(self, soup: BeautifulSoup, base: str,
                             page_url: str) -> list[Tag]:
        """On a section page, the boxes titled by a link to another section of the site ("Tham
        vấn chính sách" beside "Chính sách mới"): that section's stories, not this listing's."""
        boxes = []
        for heading in soup.find_all(_HEADING_TAGS):
            anchors = heading.find_all("a", href=True)
            if len(anchors) != 1 or len(heading.get_text(" ", strip=True)) > _HEADING_LIMIT:
                continue  # no title link, or a story's headline
            url = try_clean_url(str(anchors[0]["href"]), base)
            if url is None or not other_section(url, page_url):
                continue
            box = self._box_of(heading)
            if (box is not None and not self._holds_listing(box)
                    and self._weight.get(id(box), 0) <= _BOX_LIMIT):
                boxes.append(box)
        return boxes

    def __call__(self, el: Tag) -> bool:
        key = id(el)
        if key not in self._memo:
            self._memo[key] = self._judge(el)
        return self._memo[key]

    def inside(self, a: Tag) -> bool:
        """True when ``a`` or one of its ancestors is furniture."""
        return any(self(el) for el in a.parents)

    def _box_of(self, heading: Tag) -> Tag | None:
        """The nearest ancestor of a box heading that holds article links besides the heading's
        own (a "more" link beside the title is not the box)."""
        own = self._weight.get(id(heading), 0)
        node: Tag | None = heading.parent
        for _ in range(4):
            if node is None or node.name in ("body", "html", "main", "[document]"):
                return None
            if not self._opens(heading, node):
                return None  # a label inside a region ("Anzeige" on an ad slot), not its title
            if self._weight.get(id(node), 0) > own:
                return node
            node = node.parent
        return None

    def _opens(self, heading: Tag, box: Tag) -> bool:
        """True when no article link of ``box`` comes before ``heading`` (an element inside it):
        a title heads what it names."""
        for el in box.descendants:
            if el is heading:
                return True
            if isinstance(el, Tag) and el.name == "a" and self._weight.get(id(el), 0):
                return False
        return False

    def _holds_listing(self, el: Tag) -> bool:
        return self._total > 0 and self._weight.get(id(el), 0) >= _LISTING_SHARE * self._total

    def _judge(self, el: Tag) -> bool:
        name = el.name
        if name in _ALWAYS_TAGS:
            return True
        if el.get("aria-hidden") == "true" or el.has_attr("hidden"):
            return False  # hidden duplicates are harmless; judge their ancestors instead
        if self._holds_listing(el):
            return False
        if name in _LANDMARK_TAGS:
            return True
        if name in ("header", "footer"):
            # An <article>'s own header/footer belongs to the teaser.
            return el.find_parent("article") is None
        if el.get("role") in _FURNITURE_ROLES:
            return True
        if name == "article":
            return False  # a teaser: its classes describe the story ("tag-science")
        return ((_named_furniture(el) and not self._teaser_part(el)) or self._side_column(el)
                or self._narrow_column(el) or self._foreign_column(el))

    def _teaser_part(self, el: Tag) -> bool:
        """True when ``el`` is a part of one story's teaser in a list of teasers: the
        "related" line under each story of a stream. One of its near ancestors is an item
        repeated beside at least two siblings of the same tag and class, and that item links
        to its own story before ``el``."""
        if self._weight.get(id(el), 0) > _TEASER_EXTRA:
            return False
        item = el.parent
        for _ in range(_TEASER_DEPTH + 1):
            if item is None or item.parent is None:
                return False
            if _repeated(item) and not self._opens(el, item):  # its story's link first
                return True
            item = item.parent
        return False

    def _narrow_column(self, el: Tag) -> bool:
        """A column whose grid class says it is narrower than a sibling column of the same grid
        ("col-md-4" beside "col-md-8", "grid_6" beside "grid_12", "col300" beside "col810"),
        holding fewer article links than that sibling, in the region that holds the listing.
        Numbers that count the siblings in order ("bin1", "bin2", "bin3") are places, not
        widths."""
        own = self._weight.get(id(el), 0)
        parent = el.parent
        if own < _SIDE_MIN or parent is None or not self._holds_listing(parent):
            return False
        mine = _grid_widths(el)
        if not mine:
            return False
        row = [(c, _grid_widths(c)) for c in parent.children if isinstance(c, Tag)]
        for grid, width in mine.items():
            widths = [w for _, grids in row if (w := grids.get(grid)) is not None]
            if widths == list(range(widths[0], widths[0] + len(widths))):
                continue  # numbered in order: places
            if any(c is not el and grids.get(grid, 0) >= width * _WIDER
                   and self._weight.get(id(c), 0) > own for c, grids in row):
                return True
        return False

    def _foreign_column(self, el: Tag) -> bool:
        """An unnamed column after the main one: a row of at most three columns in the region
        that holds the listing, a column before it with at least twice its links, and not one
        teaser of this column marked up like a teaser of that one. Section blocks of a home
        page repeat the main column's teaser markup; a sidebar's boxes have their own."""
        own = self._weight.get(id(el), 0)
        parent = el.parent
        if own < _SIDE_MIN or parent is None or not self._holds_listing(parent):
            return False
        row = [c for c in parent.children if isinstance(c, Tag) and self._weight.get(id(c), 0)]
        if len(row) > _ROW_COLUMNS:
            return False
        teasers = None
        for sibling in el.previous_siblings:
            if (not isinstance(sibling, Tag)
                    or self._weight.get(id(sibling), 0) < own * _FOREIGN_RATIO
                    or _furniture_by_name(sibling) or self(sibling)):
                continue  # a smaller column, or a header that holds a mega-menu's many links
            if teasers is None:
                teasers = self._teaser_markup(el)
            if not teasers & self._teaser_markup(sibling):
                return True
        return False

    def _teaser_markup(self, el: Tag) -> set[tuple[str, ...]]:
        """How ``el`` marks up its article links: for each, the tag and first class (digits
        dropped: "item-3") of the two elements around it."""
        found: set[tuple[str, ...]] = set()
        for a in el.find_all("a", href=True):
            if not self._weight.get(id(a), 0):
                continue
            shape: list[str] = []
            node = a.parent
            while node is not None and node is not el and len(shape) < _TEASER_DEPTH:
                cls = node.get("class")
                first = cls[0] if isinstance(cls, list) and cls else ""
                shape.append(f"{node.name}.{_DIGITS_RE.sub('', first)}")
                node = node.parent
            found.add(tuple(shape))
        return found

    def _side_column(self, el: Tag) -> bool:
        own = self._weight.get(id(el), 0)
        named = _side_named(el) if own >= _SIDE_MIN else None
        parent = el.parent
        if named is None or parent is None:
            return False
        siblings = [s for s in parent.children if isinstance(s, Tag) and s is not el]
        if named == "side":
            return any(self._weight.get(id(s), 0) > own for s in siblings)
        return any(self._weight.get(id(s), 0) >= own * 2
                   or (self._weight.get(id(s), 0) > own and self._names_main(s, _MAIN_DEPTH))
                   for s in siblings)

    def _names_main(self, el: Tag, depth: int) -> bool:
        """True when ``el``, or a descendant holding most of its links, is named the main column."""
        if _class_tokens(el) & _MAIN_TOKENS:
            return True
        if depth == 0:
            return False
        half = self._weight.get(id(el), 0) / 2
        return any(self._names_main(child, depth - 1) for child in el.children
                   if isinstance(child, Tag) and self._weight.get(id(child), 0) > half)


# A grid class: a layout word and a width ("col-md-4", "grid_6", "col300", "span8", "large-9").
_GRID_RE = re.compile(r"^(?:[a-z]+[-_])*(col|column|grid|span|md|lg|sm|xs|xl|large|medium|small|w)"
                      r"[-_]?(\d{1,4})$", re.IGNORECASE)


def _grid_widths(el: Tag) -> dict[str, int]:
    """Grid classes of ``el`` by their prefix: "col-md-4" -> {"col-md": 4}."""
    cls = el.get("class")
    found: dict[str, int] = {}
    for value in cls if isinstance(cls, list) else []:
        match = _GRID_RE.match(value)
        if match and int(match.group(2)) > 0:
            found[value[:match.start(2)].rstrip("-_").lower()] = int(match.group(2))
    return found


def _repeated(item: Tag) -> bool:
    """True when ``item`` has at least two siblings of its tag and first class."""
    cls = item.get("class")
    first = cls[0] if isinstance(cls, list) and cls else None
    if item.parent is None or first is None:
        return False
    same = 0
    for sibling in item.parent.children:
        if (isinstance(sibling, Tag) and sibling.name == item.name
                and (sibling.get("class") or [None])[0] == first):
            same += 1
            if same > _REPEAT_MIN:
                return True
    return False


def _furniture_by_name(el: Tag) -> bool:
    """Named or tagged as furniture, whatever share of the page's links it holds."""
    return el.name in ("header", "footer", *_LANDMARK_TAGS) or _named_furniture(el)


def _named_furniture(el: Tag) -> bool:
    values = [str(el.get("id") or "")]
    cls = el.get("class")
    if cls:
        values.extend(cls if isinstance(cls, list) else [str(cls)])
    for value in values:
        if not value or _TAXONOMY_RE.match(value):
            continue
        low = value.lower()
        if any(p in low for p in _FURNITURE_PHRASES):
            return True
        if any(t in _FURNITURE_TOKENS for t in re.split(r"[\s_-]+", low)):
            return True
        # camelCase names: "boxPopularContent", "mainNav".
        if value != low and any(t.lower() in _FURNITURE_TOKENS for t in _CAMEL_RE.findall(value)):
            return True
    return False


def _class_tokens(el: Tag) -> set[str]:
    """Lower-cased words of ``el``'s id and classes ("col_droite" -> col, droite), taxonomy
    classes ("category-left") left out."""
    return {t.lower() for value in _names(el) if not _TAXONOMY_RE.match(value)
            for t in _CAMEL_RE.findall(value)}


def _names(el: Tag) -> list[str]:
    cls = el.get("class")
    return [str(el.get("id") or ""), *(cls if isinstance(cls, list) else [str(cls or "")])]


def _sub_column(value: str) -> bool:
    words = [w.lower() for w in _CAMEL_RE.findall(value)]
    return any(w == "sub" and (i == 0 or words[i - 1] in _COLUMN_WORDS)
               for i, w in enumerate(words))


def _side_named(el: Tag) -> str | None:
    """"side" when the class or id names a secondary column, "place" when it only says "right"
    or "left"."""
    tokens = _class_tokens(el)
    if tokens & _SIDE_TOKENS or any(_sub_column(v) for v in _names(el)):
        return "side"
    if tokens & _PLACE_TOKENS:
        return "place"
    return None


_RANK_RE = re.compile(r"^(\d{1,2})(?!\d)")


def _ranked_lists(soup: BeautifulSoup) -> list[Tag]:
    """Lists whose items are numbered 1, 2, 3, ... in their text: a ranking ("most read"),
    never how a site numbers its news stream."""
    found = []
    for lst in soup.find_all(("ol", "ul", "div", "dl", "section")):
        items = [c for c in lst.children if isinstance(c, Tag)]
        if len(items) < 3:
            continue
        ranks = []
        for item in items[:3]:
            first = next(item.stripped_strings, "")
            match = _RANK_RE.match(first)
            ranks.append(int(match.group(1)) if match else 0)
        if ranks == [1, 2, 3]:
            found.append(lst)
    return found


def _is_box_heading(el: Tag) -> bool:
    if el.name in ("body", "html", "[document]"):
        return False
    text = el.get_text(" ", strip=True)
    return 0 < len(text) <= _HEADING_LIMIT and bool(_BOX_HEADING_RE.search(text))



"""Units of the metadata side of extraction: headlines, bylines, dates (issue 3)."""

from __future__ import annotations

import pytest
from lxml import etree
from lxml import html as lxml_html

from feeder.extract import byline, dates, extract, metadata, title


@pytest.mark.parametrize(("raw", "names"), [
    ("Maria & Katerina", ["Maria & Katerina"]),  # one credit of two first names
    ("Center for Drug Evaluation and Research", ["Center for Drug Evaluation and Research"]),
    ("Jillian Kubala, MS, RD", ["Jillian Kubala, MS, RD"]),  # credentials stay with the name
    ("Guardian staff reporter", ["Guardian staff reporter"]),
    ("chuck-ross", ["Chuck Ross"]),
    ("Emma Mackenzie, (Image: Getty Images, iStockphoto)", ["Emma Mackenzie"]),
    ("John Smith, Reporter", ["John Smith"]),
    ("BR24 Redaktion", ["BR24 Redaktion"]),
    ("Dec. 19, 2025", []),
    ("AFP", ["AFP"]),
])
def test_split_names_cleaning(raw: str, names: list[str]) -> None:
    assert byline.split_names(raw) == names


@pytest.mark.parametrize(("text", "names"), [
    ("Posted by BeauHD on Friday December 19, 2025 @08:00PM from the dept.", ["BeauHD"]),
    ("Dec. 19, 2025 · Niko Matsakis on behalf of Vision Doc group", ["Niko Matsakis"]),
    ("Scott MattonMarch 2, 2026", ["Scott Matton"]),
    ("Liz Kenny Former McKinsey Consultant", ["Liz Kenny"]),
    ("By Paul Frew, Home and Digital Security Expert", ["Paul Frew"]),
    ("Twitter Facebook", []),
    ("Andre Alexis, says:", []),
    ("Sign In | Sign Up | Subscribe, My Account, Show Menu", []),
    # "Posted by" as German, French and Spanish blog software prints it.
    ("Eingestellt von der Michel", ["der Michel"]),
    ("Veröffentlicht von | Chris Jung", ["Chris Jung"]),
    ("Publié par Jean Dupont", ["Jean Dupont"]),
    ("~ Cem Basman", ["Cem Basman"]),
])
def test_visible_names(text: str, names: list[str]) -> None:
    assert byline.visible_names(text) == names


def test_site_names_give_way_to_a_person() -> None:
    sites = ["stern.de"]
    url = "https://www.stern.de/politik/a-123.html"
    assert byline.is_site_author("STERN.de", sites, url)
    assert not byline.is_site_author("Jemima Kelly", sites, url)
    assert not byline.is_site_author("Stern Redaktion", sites, url)  # the desk signs
    names, src = byline.choose([(["STERN.de"], "json-ld")], ["von Jemima Kelly"], [], sites, url)
    assert (names, src) == (["Jemima Kelly"], "byline")
    # Nobody else named: the publisher's own name, as the page credits it, is the last resort.
    assert byline.choose([(["Stern"], "json-ld")], [], [], sites, url) == (["Stern"], "json-ld")


@pytest.mark.parametrize("src", ["json-ld", "microdata"])
def test_outlet_credited_by_the_article_is_the_last_resort(src: str) -> None:
    # The article's own author field names the outlet ("ndr.de" writes its own news): with no
    # person anywhere on the page, that credit stands.
    url = "https://www.ndr.de/nachrichten/a-100.html"
    assert byline.choose([(["ndr.de"], src)], [], [], ["ndr.de"], url) == (["ndr.de"], src)
    assert byline.choose([(["Báo Long An"], src)], [], [], [],
                         "https://baolongan.vn/a-1.html") == (["Báo Long An"], src)
    # ... and still gives way to a person the page names.
    assert byline.choose([(["ndr.de"], src)], ["Von Jane Roe"], [], ["ndr.de"], url) == (
        ["Jane Roe"], "byline")


@pytest.mark.parametrize("src", ["meta:author", "meta:dc.creator", "json-ld:page"])
def test_site_default_author_tag_is_no_author(src: str) -> None:
    # A <meta name="author"> holding the site's address or outlet name is the site's default
    # (its section pages carry it too): a page with no byline has no author, not the domain.
    url = "https://baolongan.vn/a-1.html"
    assert byline.choose([(["baolongan.vn"], src)], [], [], [], url) == ([], None)
    assert byline.choose([(["Báo Long An"], src)], [], [], [], url) == ([], None)
    assert byline.choose([(["NLD.COM.VN"], src)], [], [], [], url) == ([], None)
    # The page's own host is a web address whatever its top-level domain.
    assert byline.choose([(["news.site.example"], src)], [], [], [],
                         "https://www.news.site.example/a-1.html") == ([], None)
    assert byline.names_site("site.example", "https://news.site.example/a")
    assert not byline.names_site("Jane Roe", "https://news.site.example/a")


def test_byline_box_with_names_in_sibling_elements() -> None:
    box = etree.fromstring("<div class='byline'><div><span>Birgit Baumann</span> "
                           "<span>Anna Giulia Fink</span></div></div>")
    assert byline.box_text(box) == "Birgit Baumann, Anna Giulia Fink"
    assert byline.split_names(byline.box_text(box)) == ["Birgit Baumann", "Anna Giulia Fink"]


def test_h1_kicker_variants() -> None:
    h1 = etree.fromstring("<h1><span class='article-title__overline'>Minderheit in Syrien</span>"
                          "<span class='h-offscreen' aria-hidden='true'> - </span>"
                          "<span class='article-title__text'>Drusen fordern Teilhabe</span></h1>")
    assert title.h1_texts(h1) == ["Drusen fordern Teilhabe",
                                  "Minderheit in Syrien - Drusen fordern Teilhabe"]


@pytest.mark.parametrize(("h1s", "metas", "news", "want"), [
    # The kicker-free h1 matches the metadata: the kicker is not part of the headline.
    (["Drusen fordern Teilhabe statt Schutz", "Minderheit: Drusen fordern Teilhabe statt Schutz"],
     [("Drusen fordern Teilhabe statt Schutz", "og:title")], True,
     "Drusen fordern Teilhabe statt Schutz"),
    # The whole h1 matches: the "kicker" belongs to the headline.
    (["Zwei Rücktritte und offene Fragen", "Ahrtal-Ausschuss Zwei Rücktritte und offene Fragen"],
     [("Ahrtal-Ausschuss: Zwei Rücktritte und offene Fragen", "json-ld")], True,
     "Ahrtal-Ausschuss: Zwei Rücktritte und offene Fragen"),
    # News: OpenGraph and the JSON-LD headline agree on a reworded headline (bar the kicker's
    # separator): the h1 that readers see stays the headline.
    (["Ferry strike ends after three days of talks and a late offer"],
     [("Ferry strike ends: unions accept late offer", "og:title"),
      ("Ferry strike ends - unions accept late offer", "json-ld"),
      ("Ferry strike ends after three days of talks and a late offer", "meta:dc.title")], True,
     "Ferry strike ends after three days of talks and a late offer"),
    # ... but when they print the h1 behind a kicker, the title curated twice wins.
    (["Two resignations and many open questions"],
     [("Flood inquiry: Two resignations and many open questions", "og:title"),
      ("Flood inquiry: Two resignations and many open questions", "json-ld")], True,
     "Flood inquiry: Two resignations and many open questions"),
    # ... and when they say the h1 shortened (its words in its order, some left out): the
    # newsroom's short headline, not a rewording.
    (["Minister pleads after the night attacks: 'Critical that partners understand'"],
     [("Pleads after attacks - 'critical'", "og:title"),
      ("Pleads after attacks – 'critical'", "json-ld"),
      ("Minister pleads after the night attacks: 'Critical that partners understand'",
       "meta:dc.title")], True,
     "Pleads after attacks - 'critical'"),
    # A new word ("virus") or words moved make it a rewording: the h1 stays.
    (["Coronavirus: New York ramps up burials amid outbreak"],
     [("New York ramps up burials amid virus outbreak", "og:title"),
      ("New York ramps up burials amid virus outbreak", "json-ld"),
      ("Coronavirus: New York ramps up burials amid outbreak", "meta:dc.title")], True,
     "Coronavirus: New York ramps up burials amid outbreak"),
    (["The war of nerves over the treaty goes into the next round"],
     [("Treaty: war of nerves goes into next round", "og:title"),
      ("Treaty: war of nerves goes into next round", "json-ld"),
      ("The war of nerves over the treaty goes into the next round", "meta:dc.title")], True,
     "The war of nerves over the treaty goes into the next round"),
    # ... nor when what they agree on is the site's tagline: metadata that shares no word with
    # a headline-length h1 describes something else, and the h1 is the headline.
    (["Ferry strike ends after three days of talks and a late offer"],
     [("News from the harbour towns and the islands", "og:title"),
      ("News from the harbour towns and the islands", "json-ld")], True,
     "Ferry strike ends after three days of talks and a late offer"),
    (["So sind Straßenbahnen auf künftige Hitzewellen vorbereitet"],
     [("Verkehrschaos durch Hitze: Alte Trams als Risiko", "json-ld"),
      ("Wenn Beton platzt: Der Kampf gegen die nächste Welle", "og:title")], True,
     "So sind Straßenbahnen auf künftige Hitzewellen vorbereitet"),
    # ... not when they disagree with each other: the h1 that one of them matches stays.
    (["Ferry strike ends after three days of talks"],
     [("Ferry strike ends: unions accept offer", "og:title"),
      ("Ferry strike ends after three days of talks", "json-ld")], True,
     "Ferry strike ends after three days of talks"),
    # The h1 without its kicker element where OpenGraph prints it behind another kicker.
    (["«We never expected the bridge to close»",
      "Harbour traffic - «We never expected the bridge to close»"],
     [("Bridge closure: «We never expected the bridge to close»", "og:title"),
      ("Harbour traffic - «We never expected the bridge to close»", "microdata")], False,
     "«We never expected the bridge to close»"),
    # No h1, and the JSON-LD headline is cut short: the metadata title that says it in full.
    ([], [("Fix It Friday: Struggling With How To Arrange Your Living Room? We Help Four Readers"
           " Find Solutions (Including", "json-ld"),
          ("Fix It Friday: Struggling With How To Arrange Your Living Room? We Help Four Readers"
           " Find Solutions (Including One Trick) - Yoga Pathways", "og:title")], False,
     "Fix It Friday: Struggling With How To Arrange Your Living Room? We Help Four Readers Find"
     " Solutions (Including One Trick)"),
    # A header h1 holding the site name is skipped.
    (["Yoga Pathways"], [("Yoga Won't Fix the Plumbing", "og:title")], False,
     "Yoga Won't Fix the Plumbing"),
    # Not a news article: the visible headline beats a search-tuned title saying the same.
    (["Guide to filing your taxes in 2025"],
     [("Guide to filing your taxes in 2024 | Consumer Bureau", "og:title")], False,
     "Guide to filing your taxes in 2025"),
    # ... but not an unrelated h1.
    (["Contact Us"], [("Addressing Cybersecurity Concerns at Home", "og:title")], False,
     "Addressing Cybersecurity Concerns at Home"),
])
def test_choose_headline(h1s: list[str], metas: list[tuple[str, str]], news: bool,
                         want: str) -> None:
    sites = ["Yoga Pathways", "Consumer Bureau"]
    got = title.choose(h1s, metas, None, sites, "https://site.example/a", news=news)
    assert got is not None and got[0] == want


def test_site_suffix_by_initials_and_host_label() -> None:
    assert title.strip_site("2025 Top 100 Companies | WFA", ["World Future Awards"],
                            "https://worldfutureawards.example/x") == "2025 Top 100 Companies"
    assert title.strip_site("The Car Checklist | Bridgestone Tires", [],
                            "https://tires.bridgestone.example/x") == "The Car Checklist"


@pytest.mark.parametrize(("url", "want"), [
    ("https://blog.example/2025/12/20/advent-week-2/", (2025, 12, 20)),
    ("https://blog.example/archive/2025/12/Advent_week_2.html", (2025, 12, None)),
    ("https://news.example/2024-05-03-library-opens", (2024, 5, 3)),
    ("https://news.example/article/1234567", None),
])
def test_url_date(url: str, want: tuple[int, int, int | None] | None) -> None:
    assert dates.url_date(url) == want


def test_time_inside_update_label_is_an_update() -> None:
    box = etree.fromstring("<p>Last updated: <time datetime='2026-01-12'>Jan 12</time></p>")
    assert dates.in_update_label(box[0])
    box = etree.fromstring("<p>Published <time datetime='2026-01-12'>Jan 12</time></p>")
    assert not dates.in_update_label(box[0])


def test_editor_credited_in_metadata_gives_way_to_the_byline() -> None:
    url = "https://harian.example/ekonomi/851796/judul"
    got = byline.choose([(["Heryadi"], "json-ld")], ["Naufal Zuhdi", "Editor : Heryadi"], [],
                        ["harian"], url)
    assert got == (["Naufal Zuhdi"], "byline")


def test_bare_desk_word_is_a_last_resort() -> None:
    url = "https://shop.example/blog/a"
    assert byline.choose([(["Staff"], "microdata")], [], [], [], url) == (["Staff"], "microdata")
    assert byline.choose([(["Staff"], "microdata")], ["By Jane Doe"], [], [], url) == (
        ["Jane Doe"], "byline")


@pytest.mark.parametrize(("raw", "names"), [
    ("Michael Greger, M.D. FACLM", ["Michael Greger, M.D. FACLM"]),
    ("David Jackson - FullStack Editorial Team", ["David Jackson"]),
])
def test_credentials_and_affiliations(raw: str, names: list[str]) -> None:
    assert byline.split_names(raw) == names


def test_author_label_element() -> None:
    box = etree.fromstring("<li><strong>Autorin/Autor</strong> Roman Goncharenko </li>")
    assert byline.label_text(box[0]) == "Roman Goncharenko"


def test_headline_mojibake_and_glued_suffix() -> None:
    got = title.choose(["Crash-Tarif jetzt fÃ¼r nur 5,99 Euro"],
                       [("Crash-Tarif jetzt für nur 5,99 Euro", "json-ld")], None, [],
                       "https://news.example/a", news=True)
    assert got == ("Crash-Tarif jetzt für nur 5,99 Euro", "h1")
    got = title.choose([], [("Wahl: Partei gewinnt deutlich-Politikㅣ Zeitung", "og:title"),
                            ("Wahl: Partei gewinnt deutlich", "meta:headline")], None, [],
                       "https://news.example/a", news=True)
    assert got is not None and got[0] == "Wahl: Partei gewinnt deutlich"


def test_written_by_label_pair_names_the_author() -> None:
    # SEO plugins write the byline as a label/data pair; the "author" meta may be an e-mail.
    page = etree.fromstring(
        "<html><head><meta name='author' content='j.roe@news.example'>"
        "<meta name='twitter:label1' content='Written by'>"
        "<meta name='twitter:data1' content='Jane Roe'>"
        "<meta name='twitter:label2' content='Est. reading time'>"
        "<meta name='twitter:data2' content='3 minutes'></head><body></body></html>",
        etree.HTMLParser())
    meta = metadata.read(page)
    assert byline.choose(meta.authors, [], [], [], "https://news.example/a") == (
        ["Jane Roe"], "meta:twitter:data")


def test_kicker_element_above_the_h1_joins_the_headline_when_the_metadata_says_so() -> None:
    page = etree.fromstring(
        "<html><body><div class='lead'><div class='keyword'>Nach dem Rückzug</div>"
        "<h1>Anwältin soll Ministerin werden</h1></div></body></html>", etree.HTMLParser())
    kicked = title.kicked_h1s(page)
    assert kicked == ["Nach dem Rückzug: Anwältin soll Ministerin werden"]
    url = "https://news.example/a"
    got = title.choose(["Anwältin soll Ministerin werden"],
                       [("Nach dem Rückzug: Anwältin soll Ministerin werden", "og:title")],
                       None, [], url, kicked=kicked)
    assert got == ("Nach dem Rückzug: Anwältin soll Ministerin werden", "kicker+h1")
    # A section name before the headline in the metadata title is no kicker.
    got = title.choose(["Anwältin soll Ministerin werden"],
                       [("Politik | Anwältin soll Ministerin werden", "og:title")],
                       None, [], url, kicked=["Politik: Anwältin soll Ministerin werden"])
    assert got == ("Anwältin soll Ministerin werden", "h1")


def test_numeric_dates_month_first_only_when_they_must_be() -> None:
    # Day first by default (Vietnamese and most of the world) ...
    assert dates.parse_visible("03/09/2026", None).when.date().isoformat() == "2026-09-03"
    # ... month first when the second number cannot be a month, or on an American page.
    assert dates.parse_visible("Wed, 12/18/2024 - 04:39", None).when.isoformat() == (
        "2024-12-18T04:39:00+00:00")
    assert dates.parse_machine("03-09-2026", None, month_first=True).when.date().isoformat() == (
        "2026-03-09")
    assert dates.parse_visible("03.09.2026", None, month_first=True).when.month == 9
    assert dates.is_month_first("en", "en_US") and not dates.is_month_first("en-GB", None)


def test_the_pages_own_slashed_dates_decide_the_order() -> None:
    assert dates.writes_month_first(["12/17/2025", "03/01/2017 by Jane Roe"])
    assert not dates.writes_month_first(["17/12/2025", "12/17/2025"])  # mixed: no evidence
    assert not dates.writes_month_first(["03/01/2017", "05/06/2024"])  # ambiguous only


def test_a_stamp_announced_by_its_label_outside_any_date_box() -> None:
    from feeder.extract import extract

    page = ("<html><head><title>Installing solar panels</title></head><body><main>"
            "<div><span>Updated Feb 11, 2026</span></div>"
            "<article>"
            + "<p>What to expect from the survey to the switch-on, week by week.</p>" * 5
            + "</article></main></body></html>")
    art = extract(page, "https://solar.example/install-guide", timezone="UTC")
    assert art.updated is not None and art.updated.date().isoformat() == "2026-02-11"
    assert art.published == art.updated and art.provenance["published"] == "updated-only"


@pytest.mark.parametrize(("h1", "meta", "want"), [
    # The h1's parts in separate elements: the metadata title adds the colon.
    ("Ausschuss zur Flut Zwei Rücktritte", "Ausschuss zur Flut: Zwei Rücktritte",
     "Ausschuss zur Flut: Zwei Rücktritte"),
    # The h1 printed as written: its own "?" or "-", no emphasis marks of the metadata.
    ("Cloud Innovations: What's Next in 2025?", "Cloud Innovations: What's Next in 2025",
     "Cloud Innovations: What's Next in 2025?"),
    ("Your First Trip to Japan- A Visitor's Guide", "Your First Trip to Japan: A Visitor's Guide",
     "Your First Trip to Japan- A Visitor's Guide"),
    ("A Treatise on Coffee (1792)", "*A Treatise on Coffee* (1792)",
     "A Treatise on Coffee (1792)"),
])
def test_h1_against_metadata_punctuation(h1: str, meta: str, want: str) -> None:
    got = title.choose([h1], [(meta, "og:title")], None, [], "https://blog.example/a",
                       news=False)
    assert got is not None and got[0] == want


@pytest.mark.parametrize(("markup", "name"), [
    ("<div><span>By</span><span>Jane Roe</span></div>", "Jane Roe"),
    ("<div><strong>Contributors:</strong> Jane Roe </div>", "Jane Roe"),
])
def test_author_label_then_name(markup: str, name: str) -> None:
    box = etree.fromstring(markup)
    assert byline.label_text(box[0]) == name


def test_published_label_beats_a_publication_time_equal_to_the_last_save() -> None:
    from feeder.extract import extract

    ld = ('{"@type": "Article", "headline": "Ten free tools", '
          '"datePublished": "2025-11-29T12:28:31-05:00", '
          '"dateModified": "2025-11-29T12:28:31-05:00"}')
    page = (f"<html><head><script type='application/ld+json'>{ld}</script></head><body>"
            "<article><h1>Ten free tools</h1><div class='meta'>Published August 13, 2025</div>"
            + "<p>Some text about tools that small businesses can use for free.</p>" * 5
            + "</article></body></html>")
    art = extract(page, "https://shop.example/blog/tools", timezone=None)
    assert art.published is not None and art.published.date().isoformat() == "2025-08-13"
    assert art.updated is not None and art.updated.date().isoformat() == "2025-11-29"


def test_url_slug_picks_among_disagreeing_titles() -> None:
    url = "https://news.example/politik/article123/streeck-lobt-haftbefehl-doku-und-warn"
    metas = [("Streeck lobt Haftbefehl-Doku und warnt vor Verherrlichung", "json-ld"),
             ("Haftbefehl: Streeck lobt Doku und warnt vor Verherrlichung", "og:title")]
    got = title.choose(["Haftbefehl: Streeck lobt Doku und warnt vor Verherrlichung"], metas,
                       None, [], url)
    assert got == ("Streeck lobt Haftbefehl-Doku und warnt vor Verherrlichung", "json-ld+slug")
    # The chosen title holds the slug's words: it stays ("The" and a year may lead it).
    url = "https://blog.example/best-electric-scooters-for-commuting/"
    got = title.choose(["The Best Electric Scooters for Commuting in 2025"],
                       [("Best Electric Scooters for Commuting", "og:title")], None, [], url,
                       news=False)
    assert got is not None and got[0] == "The Best Electric Scooters for Commuting in 2025"
    # Ümlauts and ø as slugs spell them.
    assert title._slug_words("Grünen-Spitze Søskenbarna") == ["gruenen", "spitze", "soeskenbarna"]


def test_url_slug_without_the_kicker_drops_it_when_the_metadata_does() -> None:
    url = "https://news.example/leben/Judy-Lybke-ganz-und-gar-nicht-eigenartig-article24075843.html"
    got = title.choose(["Neue Leipziger Schule: Judy Lybke, ganz und gar nicht eigenartig"],
                       [("Judy Lybke, ganz und gar nicht eigenartig", "og:title"),
                        ("Neue Leipziger Schule: Judy Lybke, ganz und gar nicht eigenartig",
                         "json-ld")], None, [], url)
    assert got == ("Judy Lybke, ganz und gar nicht eigenartig", "og:title+slug")
    assert title._url_slug("https://x.example/artikel/522721.kenia-nairobi-von-unten.html") == [
        "kenia", "nairobi", "von", "unten"]


def test_a_short_name_repeated_by_byline_boxes_is_the_last_resort() -> None:
    url = "https://news.example/a"
    assert byline.choose([], ["Newsdesk", "Newsdesk news@news.example", "Newsdesk"], [], [],
                         url) == (["Newsdesk"], "byline")
    assert byline.choose([], ["Share", "Share"], [], [], url) == ([], None)
    assert byline.choose([], ["Newsdesk"], [], [], url) == ([], None)  # said once: a label


def test_a_bold_name_opening_the_text_is_the_byline() -> None:
    from feeder.extract import extract

    page = ("<html><head><meta property='og:site_name' content='Valley Times'>"
            "<meta name='author' content='Valley Times'></head><body><article>"
            "<h1>From adversity to advocacy</h1><div class='entry'><p>&nbsp;</p>"
            "<p><strong>Mohloai Mpesi</strong></p>"
            + "<p>In the heart of the valley, one young lawyer stands as a beacon of hope.</p>" * 4
            + "<p><strong>Full Service Work</strong></p><p>More text about the work here.</p>"
            "</div></article></body></html>")
    art = extract(page, "https://valleytimes.example/from-adversity/", timezone=None)
    assert art.authors == ("Mohloai Mpesi",)
    assert "Mohloai" not in art.content_text and "Full Service Work" in art.content_text


def test_an_agency_byline_does_not_override_the_site_signature() -> None:
    sites = ["Salzburger Nachrichten"]
    url = "https://www.sn.example/politik/a-1"
    got = byline.choose([(["Salzburger Nachrichten"], "json-ld")], ["von APA"], [], sites, url)
    assert got == (["Salzburger Nachrichten"], "json-ld")
    got = byline.choose([(["Salzburger Nachrichten"], "json-ld")], ["von Jane Roe"], [], sites, url)
    assert got == (["Jane Roe"], "byline")


def test_a_headline_set_in_capitals_takes_the_metadata_case() -> None:
    got = title.choose(["BEST DRIP COFFEE MAKER IN 2026: BUYING TIPS FROM COFFEE PROS"],
                       [("Best Drip Coffee Maker 2026: Buying Tips From Coffee Pros", "og:title")],
                       None, [], "https://coffee.example/best-drip/", news=False)
    assert got == ("Best Drip Coffee Maker 2026: Buying Tips From Coffee Pros", "og:title+case")


def test_single_name_after_by_keeps_its_role_apart() -> None:
    assert byline.visible_names("By Eliz - Product marketer") == ["Eliz"]
    assert byline.visible_names("Posted by BeauHD") == ["BeauHD"]


def test_fullwidth_punctuation_only_in_latin_headlines_becomes_ascii() -> None:
    url = "https://shop.example/blogs/news/how-it-works"
    got = title.choose(["How Does Robot Mapping Work？"], [], None, [], url)
    assert got is not None and got[0] == "How Does Robot Mapping Work?"
    got = title.choose(["フジテレビ問題でスポーツ界にも大激震！"], [], None, [], url)
    assert got is not None and got[0] == "フジテレビ問題でスポーツ界にも大激震！"


def _page_authors(byline_markup: str) -> list[str]:
    from feeder.extract import extract

    page = ("<html><head><title>Choosing a kettle</title></head><body><article>"
            "<h1>Choosing a kettle</h1>"
            + "<p>Kettles differ in how fast they boil and how loud they are doing it.</p>" * 4
            + byline_markup + "</article></body></html>")
    return list(extract(page, "https://kitchen.example/kettles", timezone="UTC").authors)


def test_byline_list_items_are_separate_names() -> None:
    assert _page_authors("<div><span>Written by: <ul><li><a href='/a/jr'>Jane Roe</a></li>"
                         "<li><a href='/a/jd'>John Doe</a></li></ul></span></div>") == [
        "Jane Roe", "John Doe"]


def test_the_name_above_an_author_description_box() -> None:
    assert _page_authors("<div><p class='headline'>Maria Lindqvist</p>"
                         "<div class='dynamic-author-description'>Certified Q Grader, M.A. "
                         "Journalism</div></div>") == ["Maria Lindqvist"]


def test_an_author_heading_labels_the_name_under_it() -> None:
    assert _page_authors("<div class='content-item'><h3>Author</h3><p>Lisa M. Grant</p>"
                         "</div>") == ["Lisa M. Grant"]
    # A heading's class alone ("About ..." in an author box) does not make it a byline.
    assert _page_authors("<div><h4 class='author-box-title'>About Lisa Grant"
                         "</h4></div><p>By <span class='author-name'>Lisa Grant</span></p>") == [
        "Lisa Grant"]


@pytest.mark.parametrize(("raw", "want"), [
    ("Báo Bình Sơn điện tử - Huyện Tây Giang ra quân làm đường",
     "Huyện Tây Giang ra quân làm đường"),
    ("Huyện Tây Giang ra quân | Báo Quảng Nam", "Huyện Tây Giang ra quân"),
    ("Cổng thông tin điện tử tỉnh Quảng Nam - Lễ hội Bà Thu Bồn", "Lễ hội Bà Thu Bồn"),
    # "Báo động" (alarm) and "Báo cáo" (report) open headlines; they name no outlet.
    ("Báo động đỏ - Mưa lớn ở miền Trung", "Báo động đỏ - Mưa lớn ở miền Trung"),
    ("Báo cáo: Kinh tế tăng trưởng 7%", "Báo cáo: Kinh tế tăng trưởng 7%"),
])
def test_vietnamese_outlet_names_are_site_parts(raw: str, want: str) -> None:
    assert title.strip_site(raw, [], "https://bao.example/a.html") == want


def test_an_update_stamp_beside_the_headline_keeps_the_articles_time_element() -> None:
    from feeder.extract import extract

    page = ("<html><head><title>Harbour works</title></head><body><article>"
            "<div class='head'><h1>Harbour works</h1><p>Updated January 5, 2025</p></div>"
            "<div class='meta'><time datetime='2024-12-01T09:00:00+00:00'>1 Dec</time></div>"
            + "<p>The city starts building the new quay on Monday, two years late.</p>" * 4
            + "</article><aside><span class='date'>March 3, 2024</span></aside></body></html>")
    art = extract(page, "https://news.example/harbour-works", timezone="UTC")
    assert art.published is not None and art.published.isoformat() == "2024-12-01T09:00:00+00:00"
    assert art.updated is not None and art.updated.date().isoformat() == "2025-01-05"


@pytest.mark.parametrize(("text", "want"), [
    ("Dự án hoàn thành. Tin, ảnh: TRÍ NHÂN", ("Dự án hoàn thành.", ["Trí Nhân"])),
    ("Dự án hoàn thành. Theo Hồ Hương", ("Dự án hoàn thành.", ["Hồ Hương"])),
    # "Theo" a source, or a sentence that starts with "Theo": no credit.
    ("Dự án hoàn thành. Theo TTXVN", None),
    ("Dự án hoàn thành. Theo Bộ Y tế, số ca mắc đã giảm.", None),
    ("Dự án hoàn thành. Theo ông Nguyễn Văn A, dự án sẽ xong.", None),
])
def test_credit_closing_the_last_paragraph(text: str, want: object) -> None:
    assert byline.trailing_credit(text) == want


def test_signatures_right_aligned_in_any_emphasis() -> None:
    tree = etree.fromstring(
        "<html><body><div class='c'><p>Một đoạn văn bản dài của bài báo, đủ dài để là nội dung "
        "chính của bài viết này.</p></div>"
        "<p align='right'><em>Trần Bình, Lê Cường</em></p>"
        "<div style='text-align: right'>Ngọc Hân</div>"
        "<div style='text-align:right'><p>Một khối chứa đoạn văn</p></div>"
        "<p style='text-align:right'>Xem thêm các tin khác tại đây nhé</p>"
        "<p style='text-align:right'><em>Theo TTXVN</em></p></body></html>")
    assert byline.signatures(tree) == {"Trần Bình, Lê Cường", "Ngọc Hân"}


def test_byline_box_line_break_parts_a_name_from_its_desk() -> None:
    box = etree.fromstring("<div class='author'> By <a rel='author' href='/k'>Kelli  Miller</a>"
                           "<br/>Health News</div>")
    assert byline.box_text(box) == "By Kelli Miller | Health News"
    assert byline.visible_names(byline.box_text(box)) == ["Kelli Miller"]


def test_app_name_repeating_the_headline_is_no_site_name() -> None:
    # Some CMSs fill "application-name" with each page's headline; as a site name it would make
    # the headline h1 look like the site's name and leave a header h1 as the title.
    page = ("<html><head><title>Ferry strike ends after talks - News</title>"
            "<meta property='og:site_name' content='News'>"
            "<meta name='application-name' content='Ferry strike ends after talks'>"
            "<meta property='og:title' content='Ferry strike ends after talks'></head><body>"
            "<header><h1>Morning Show</h1></header><article><h1>Ferry strike ends after talks</h1>"
            "<p>" + "The ferry strike ended on Friday after three days of talks. " * 6 + "</p>"
            "</article></body></html>")
    tree = lxml_html.fromstring(page)
    assert metadata.read(tree).site_names == ["News"]
    assert extract(page, "https://news.example/ferry-strike").title == (
        "Ferry strike ends after talks")


def test_association_suffix_is_no_second_name() -> None:
    # "e.V." (a registered German association) is not the Italian "e" joining two names.
    assert byline.split_names("Deutscher Tierschutzbund e.V.") == ["Deutscher Tierschutzbund e.V"]
    assert byline.split_names("Maria Rossi e Luca Bianchi") == ["Maria Rossi", "Luca Bianchi"]


@pytest.mark.parametrize("raw", ["Chi&amp;#7871;n d&amp;#7883;ch m&#7899;i",
                                 "Chi&amp;amp;#7871;n d&amp;amp;#7883;ch m&#7899;i"])
def test_document_title_escaped_twice_is_decoded(raw: str) -> None:
    tree = lxml_html.fromstring(f"<html><head><title>{raw}</title></head><body></body></html>")
    assert metadata.read(tree).doc_title == "Chiến dịch mới"

"""Content-side rules of the extractor: container choice, boilerplate, captions and the lead.

Each page here is a small hand-written pattern, not a copy of a real site.
"""

from __future__ import annotations

from feeder.extract import content, core, images, lead
from feeder.model import Image

PARAS = "".join(
    f"<p>Paragraph {n} of the story tells what happened on the river bank that morning, "
    f"and who was there to see it.</p>" for n in range(6))


def _tree(body: str):  # type: ignore[no-untyped-def]
    return core.parse(f"<html><head><title>t</title></head><body>{body}</body></html>")


def _main_text(body: str) -> str:
    """The text the finder and the renderer give for a page of ``body``."""
    tree = _tree(body)
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    return content.to_text(content.render(main, "https://example.org/"))


def test_utility_classes_are_not_boilerplate() -> None:
    assert not content.is_boilerplate("relative overflow-hidden aspect-video ")
    assert not content.is_boilerplate("hidden md:block ")
    assert content.is_boilerplate("hidden ")
    assert content.is_boilerplate("share-bar ")


def test_page_builder_widget_blocks_are_content_but_sidebar_widgets_are_not() -> None:
    assert not content.is_boilerplate("elementor-widget-container ")
    assert content.is_boilerplate("widget widget_recent_entries ")


def test_indentation_does_not_count_as_text_when_choosing_the_container() -> None:
    padding = "<div class='x'>" + " \n" * 3000 + "</div>"
    tree = _tree(f"<article class='page'><header><h1>Headline</h1></header>{padding}"
                 f"{PARAS}</article><div class='teasers'>" + "<p>Teaser</p>" * 3 + "</div>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None and main.tag == "article"


def test_comments_section_is_dropped_even_when_long() -> None:
    comments = "".join(f"<p>Reader {n} thinks the council should have acted years ago, "
                       f"and says so at length here.</p>" for n in range(30))
    for name in ("id='comments'", "id='comment-box' class='user-post-box'"):
        tree = _tree(f"<article><h1>H</h1>{PARAS}</article><div {name}>{comments}</div>")
        content.prune(tree)
        assert "Reader 3" not in content.text_of(tree)


def test_aspnet_page_form_keeps_the_article() -> None:
    tree = _tree(f"<form id='aspnetForm'><div class='content'><h1>H</h1>{PARAS}</div></form>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None and "Paragraph 3" in content.text_of(main)


def test_caption_element_is_not_body_text() -> None:
    tree = _tree(f"<div class='story'><img src='/a.jpg'><div class='image-caption'>The bank at "
                 f"dawn.</div>{PARAS}<span class='caption'>Stray caption line</span></div>")
    blocks = content.render(tree.find(".//div"), "https://example.org/")
    assert blocks[0].kind == "figure" and blocks[0].image is not None
    assert blocks[0].image.caption == "The bank at dawn."
    assert "Stray caption line" not in content.to_text(blocks)


def test_alt_text_caption_only_when_descriptive() -> None:
    img = _tree("<img src='/a.jpg' alt='Firefighters on the roof of the burning warehouse'>")
    assert content.alt_caption(img.find(".//img")) == (
        "Firefighters on the roof of the burning warehouse")
    for alt in ("photo", "IMG_2031.jpg", "Logo"):
        tree = _tree(f"<img src='/a.jpg' alt='{alt}'>")
        assert content.alt_caption(tree.find(".//img")) is None


def test_read_also_lines_are_dropped() -> None:
    tree = _tree(f"<div>{PARAS}<p>Lire aussi : Le port fête ses cent ans</p>"
                 f"<p>Read more: how the bridge was built</p></div>")
    text = content.to_text(content.render(tree.find(".//div"), "https://example.org/"))
    assert "Lire aussi" not in text and "Read more" not in text and "Paragraph 5" in text


def test_marked_lead_under_the_headline() -> None:
    tree = _tree("<header><h1>Headline</h1><p class='article-standfirst'>The council voted "
                 "on Friday to keep the library open late, ending a long dispute.</p></header>"
                 f"<div class='body'>{PARAS}</div>")
    found = lead.find(tree)
    assert found is not None and found.kind == "marked" and found.near
    assert found.text.startswith("The council voted")


def test_photo_caption_or_second_headline_is_not_the_lead() -> None:
    tree = _tree("<header><h1>Headline</h1><div class='teaser'>Council keeps library open"
                 "</div><p class='summary'>The mayor at the vote on Friday. Foto: Jan Berg</p>"
                 f"</header><div class='body'>{PARAS}</div>")
    assert lead.find(tree) is None


def test_first_body_paragraph_is_not_a_standfirst() -> None:
    tree = _tree(f"<article><h1>Headline</h1><div class='body'>{PARAS}</div></article>")
    content.prune(tree)
    assert lead.find(tree, content.find_main(tree)) is None


def test_jsonld_caption_matched_by_media_id() -> None:
    tree = _tree('<script type="application/ld+json">{"@type": "NewsArticle", "image": '
                 '{"@type": "ImageObject", "url": "https://cdn.example/media/40995636/'
                 'photo_1200.jpg", "caption": "Crews at the substation.", "creditText": '
                 '"Agency"}}</script>')
    caps = images.jsonld_captions(tree)
    assert caps == [("https://cdn.example/media/40995636/photo_1200.jpg",
                     "Crews at the substation.", "Agency")]
    got = images.with_captions([Image(url="https://img.example/40995636/photo_600.jpg")], caps,
                               None)
    assert got[0].caption == "Crews at the substation." and got[0].credit == "Agency"


def test_a_hidden_field_label_does_not_hide_the_field() -> None:
    assert not content.is_boilerplate("field field-name-body field-label-hidden ")
    assert content.is_boilerplate("field visually-hidden ")


def test_an_unclosed_nav_that_swallowed_the_main_region_is_kept() -> None:
    tree = _tree(f"<header><nav class='menu'><a href='/'>Home</a><main><h1>Headline</h1>"
                 f"{PARAS}</main></nav></header>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None and "Paragraph 3" in content.text_of(main)
    tree = _tree(f"<nav><a href='/'>Home</a></nav><article><h1>Headline</h1>{PARAS}</article>"
                 "<footer><p>About us</p></footer>")
    content.prune(tree)
    assert tree.find(".//nav") is None and tree.find(".//footer") is None


def test_a_page_wide_form_holding_the_headline_is_kept() -> None:
    divs = "".join(f"<div>Line {n} of the story tells what happened on the river bank that "
                   f"morning, and who was there to see it.</div>" for n in range(6))
    tree = _tree(f"<form id='pageForm'><h1>Headline</h1><div class='body'>{divs}</div></form>"
                 "<form class='search'><input name='q'><p>Search the site</p></form>")
    content.prune(tree)
    assert len(list(tree.iter("form"))) == 1
    main = content.find_main(tree)
    assert main is not None and "Line 4" in content.text_of(main)


def test_an_unclosed_aside_that_swallowed_the_article_text_is_kept() -> None:
    long_paras = "".join(
        f"<p>Paragraph {n} of the story tells what happened on the river bank that morning, "
        f"who was there to see it, and what the ferrymen said to the mayor afterwards, when the "
        f"water had gone down again.</p>" for n in range(6))
    tree = _tree(f"<h1>Headline</h1><aside class='col-8'><div class='text'>{long_paras}</div>"
                 "</aside><aside class='box'><p>Most read</p><p>About us</p></aside>")
    content.prune(tree)
    assert len(list(tree.iter("aside"))) == 1
    main = content.find_main(tree)
    assert main is not None and "Paragraph 5" in content.text_of(main)


def test_ad_separators_and_teaser_prompts_between_paragraphs_are_not_text() -> None:
    tree = _tree(f"<article><h1>Headline</h1>{PARAS}<p>Article continues below</p>"
                 f"<p>ADVERTISEMENT</p><p>You may also like:</p>{PARAS}</article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    texts = [b.text for b in content.render(main, "https://example.org/")]
    assert texts and not any("continues" in t or "ADVERT" in t or "also like" in t for t in texts)


def test_a_glossary_of_definition_list_entries_is_the_text() -> None:
    terms = "".join(
        f"<dt>Term {n}</dt><dd>Term {n} names a kind of wine made from dark grapes, pressed "
        f"gently, aged for a year in old barrels and served a little below room heat.</dd>"
        for n in range(6))
    tree = _tree("<main><div class='intro'><p>Short intro.</p></div>"
                 f"<div class='body'><dl>{terms}</dl></div></main>"
                 "<div class='about'><p>The writer of this page has tasted wine for twenty years "
                 "and teaches a course on it in the city where she lives.</p></div>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None and "Term 5 names" in content.text_of(main)


def test_a_closed_accordion_panel_is_text_but_a_hidden_box_is_not() -> None:
    panel = ("<h3><button aria-controls='step-2' aria-expanded='false'>Step 2</button></h3>"
             "<div id='step-2' role='region' aria-labelledby='step-2-head' style='display:none'>"
             "<p>Step two is to compare the offers side by side, reading the small print of "
             "each one and asking the sellers about anything that is not clear.</p>"
             "<p>Most buyers take about two weeks for this step, sometimes longer when the "
             "offers differ a lot in what they include and what they leave out.</p></div>")
    hidden_box = ("<div style='display:none'><p>An old version of the intro that the editors "
                  "hid from readers, long enough to look like a paragraph of text.</p></div>")
    tree = _tree(f"<article>{PARAS}{panel}{hidden_box}</article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert "Step two is to compare" in text and "Most buyers take" in text
    assert "old version" not in text


def test_centred_text_after_a_picture_is_a_caption_only_when_the_text_is_not_centred() -> None:
    centred = "<p style='text-align: center'>"
    long_text = ("the river rose over its banks in the night and the people of the town woke to "
                 "water in their kitchens, their shops and their schools.")
    page = (f"<article>{centred}<img src='/a.jpg' alt=''></p>{centred}First, {long_text}</p>"
            f"{centred}Then, {long_text}</p>{centred}Last, {long_text}</p></article>")
    tree = _tree(page)
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert "First, the river rose" in text
    page = (f"<article><p>Intro: {long_text}</p>{centred}<img src='/a.jpg' alt=''></p>"
            f"{centred}The flooded main street.</p><p>Then, {long_text}</p>"
            f"<p>Last, {long_text}</p></article>")
    tree = _tree(page)
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    blocks = content.render(main, "https://example.org/")
    assert "flooded main street" not in content.to_text(blocks)
    captions = [b.image.caption for b in blocks if b.image is not None]
    assert captions == ["The flooded main street."]


def test_a_last_heading_without_text_under_it_is_not_text() -> None:
    teasers = "<h2>More stories for you</h2><figure><img src='/t1.jpg' alt=''></figure>"
    tree = _tree(f"<article>{PARAS}{teasers}</article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert text.endswith("who was there to see it.")
    assert _main_text(f"<article>{PARAS}<h3>Sources:</h3></article>").endswith("see it.")
    text = _main_text(f"<article>{PARAS}<h3>Sources:</h3><p>City council minutes.</p></article>")
    assert text.endswith("Sources:\n\nCity council minutes.")


def test_the_named_article_body_is_preferred_to_a_wrapper_with_a_side_column() -> None:
    side = ("<div class='w-2/5'><div class='box'><p>Get the daily letter with the best of our "
            "travel stories, deals and tips, sent to your inbox each morning for free.</p></div>"
            + "".join(f"<p>Popular story number {n} about airports, lounges and the seats that "
                      f"travellers fight over on long flights.</p>" for n in range(4))
            + "</div>")
    tree = _tree(f"<div class='flex'><div class='w-3/5'><div class='article-body'>{PARAS * 2}"
                 f"</div></div>{side}</div>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None and main.get("class") == "article-body"
    # Two named bodies (the story and the next story under it): neither is a side column.
    second = PARAS.replace("Paragraph", "Next story paragraph")
    tree = _tree(f"<main><article><div class='article-body'>{PARAS}</div></article>"
                 f"<article><div class='article-body'>{second[:300]}</div></article></main>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None and main.tag == "main"


def test_a_long_run_of_links_is_not_a_paragraph() -> None:
    tags = "".join(f"<a href='/topic/{n}'>health benefits of morning coffee number {n}</a>"
                   for n in range(8))
    tree = _tree(f"<article>{PARAS}<div class='x'>{tags}</div><p>{tags}</p></article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert "health benefits" not in text and "Paragraph 5" in text


def test_a_paragraph_laid_out_twice_is_given_once() -> None:
    slide = ("<section class='slide {0}'><h3>Universal appeal</h3><p>Bringing more visitors "
             "to a world-class space museum in a small town on the plains.</p></section>")
    text = _main_text(f"<main>{PARAS}{slide.format('desktop')}{slide.format('mobile')}</main>")
    assert text.count("Bringing more visitors") == 1


def test_a_paragraph_the_writer_repeats_in_one_text_is_given_each_time() -> None:
    refrain = ("<p>We shall not be moved, said the union's spokeswoman, and the crowd outside "
               "the council hall answered her.</p>")
    text = _main_text(f"<main>{refrain}<h2>Morning</h2>{PARAS}<h2>Evening</h2>{refrain}</main>")
    assert text.count("We shall not be moved") == 2


def test_a_first_paragraph_that_opens_with_the_headline_is_text() -> None:
    headline = "Floods close the river road between the two market towns"
    page = (f"<html><head><title>{headline}</title></head><body><h1>{headline}</h1>"
            f"<p>{headline} for the third time this winter, and the council says the repairs "
            f"cannot start before the water goes down in March.</p>{PARAS}</body></html>")
    record = core.extract(page, "https://example.org/news/floods")
    assert record.content_text.startswith(f"{headline} for the third time")


def test_soft_hyphens_and_ruby_readings_are_not_letters_of_the_text() -> None:
    text = _main_text(
        "<main><p>Schon im Mit&shy;tel&shy;al&shy;ter war der Wein das Aus&shy;hän&shy;ge&shy;"
        "schild der Region, und die Hänge oberhalb der Stadt waren berühmt.</p>"
        "<p><ruby>子<rp>(</rp><rt>こ</rt><rp>)</rp></ruby>どもへの<ruby>虐待<rt>ぎゃくたい</rt>"
        "</ruby>をなくすための<ruby>法律<rt>ほうりつ</rt></ruby>ができて、親が子どもを教育する"
        f"ために体罰を禁止することになりました。</p>{PARAS}</main>")
    assert "Schon im Mittelalter war der Wein das Aushängeschild" in text
    assert "子どもへの虐待をなくすための法律ができて" in text


def _story(headline: str, topic: str) -> str:
    return (f"<article class='story'><h1>{headline}</h1>" + "".join(
        f"<p>Part {n} of the story about {topic} tells what happened that morning, who was "
        f"there, and what the council said about it afterwards.</p>" for n in range(5))
        + "</article>")


def test_the_next_story_appended_under_the_page_is_not_its_text() -> None:
    page = (f"<html><head><title>Bridge opens</title></head><body><main>"
            f"{_story('Bridge opens', 'the bridge')}"
            f"<div class='more'>{_story('Ferry stops', 'the ferry')}</div></main></body></html>")
    record = core.extract(page, "https://example.org/news/bridge-opens")
    assert "the bridge" in record.content_text and "the ferry" not in record.content_text
    assert record.provenance["content"] == "main-block"


def test_teaser_cards_in_an_article_are_not_stories_of_their_own() -> None:
    teasers = "".join(f"<article><h2>Other story {n}</h2><p>A line of teaser.</p></article>"
                      for n in range(3))
    text = _main_text(f"<main>{_story('Bridge opens', 'the bridge')}{teasers}</main>")
    assert "Part 4 of the story about the bridge" in text


def test_a_box_of_other_articles_under_the_text_ends_it() -> None:
    teasers = "".join(f"<h3>Other story {n} about the harbour</h3><p>What the mayor said about "
                      f"the harbour plan, in one line.</p>" for n in range(4))
    text = _main_text(f"<main>{PARAS}<h2>Das könnte Sie auch interessieren</h2>{teasers}</main>")
    assert "Paragraph 5" in text
    assert "Das könnte Sie auch" not in text and "Other story" not in text


def test_a_box_of_links_set_into_the_text_does_not_end_it() -> None:
    more = "".join(f"<p>Paragraph {n} after the box goes on with the story at length, telling "
                   f"what the witnesses saw, what the police said and what happens next in "
                   f"the case that has kept the town talking for a month.</p>"
                   for n in range(6, 14))
    text = _main_text(f"<main>{PARAS}<h3>Related stories</h3><p>Harbour plan</p>{more}</main>")
    assert "Paragraph 13 after the box" in text


def test_text_that_runs_on_beside_its_picture_is_text_not_a_caption() -> None:
    story = ("<p><img src='/dress.jpg'><strong>The actress</strong>'s famous dress, adorned in "
             "pearls, was stolen from her hotel room on Wednesday, police sources have told "
             "the paper.</p>")
    captioned = "<p><img src='/quay.jpg'><br>The quay at dawn, before the boats came in.</p>"
    blocks = content.render(_tree(f"<div>{story}{captioned}{PARAS}</div>").find(".//div"),
                            "https://example.org/")
    assert blocks[0].kind == "figure" and blocks[0].image is not None
    assert blocks[0].image.caption is None
    assert blocks[1].kind == "p" and blocks[1].text.startswith("The actress's famous dress")
    assert blocks[2].image is not None and blocks[2].image.caption == (
        "The quay at dawn, before the boats came in.")


def test_a_label_left_under_the_text_is_not_text_but_a_signature_stays() -> None:
    text = _main_text(f"<main>{PARAS}<p>Weitere Informationen</p></main>")
    assert text.endswith("who was there to see it.")
    text = _main_text(f"<main>{PARAS}<p><b>Jane Doe</b></p></main>")
    assert text.endswith("Jane Doe")
    text = _main_text(f"<main>{PARAS}<p>Tin, ảnh: TRÍ NHÂN</p></main>")
    assert text.endswith("Tin, ảnh: TRÍ NHÂN")


def test_the_description_shown_under_the_headline_opens_the_text() -> None:
    standfirst = ("Sie sind das Fundament der Selbstfürsorge und unser Schutzraum: die eigenen "
                  "Grenzen, und wie man sie findet.")
    page = (f"<html><head><title>Grenzen setzen</title><meta name='description' "
            f"content='{standfirst}'></head><body><h1>So lernen wir Grenzen zu setzen</h1>"
            f"<div class='hero'><div class='c-7'>{standfirst}</div></div>"
            f"<div class='article-body'>{PARAS}</div></body></html>")
    record = core.extract(page, "https://example.org/grenzen")
    assert record.content_text.startswith(standfirst)
    assert record.summary == standfirst
    assert record.content_text.count("Sie sind das Fundament") == 1


def test_calls_to_the_reader_under_the_text_are_not_text() -> None:
    calls = ("<p>Subscribe now to our e-paper edition for the full story.</p>"
             "<p>For the latest stories and breaking news download the Harbour News apps for "
             "iOS and Android.</p><p>War der Artikel nützlich?</p>")
    text = _main_text(f"<main>{PARAS}{calls}</main>")
    assert text.endswith("who was there to see it.")


def test_a_link_wrapped_around_blocks_is_a_button_or_a_teaser() -> None:
    button = "<div class='deal'><a href='/go/1'><div><span>See price at Shop</span></div></a></div>"
    card = ("<a href='/other-story'><div><h3>Another story</h3><p>What happened at the other "
            "river, told in a line.</p></div></a>")
    tree = _tree(f"<article>{PARAS}{button}{card}</article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert "See price" not in text and "Another story" not in text and "Paragraph 5" in text


def test_the_pager_line_of_a_guide_split_over_pages_is_not_text() -> None:
    tree = _tree(f"<article><p>Page 1 of 8</p>{PARAS}</article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert "Page 1 of 8" not in text and text.startswith("Paragraph 0")


def test_an_affiliate_disclosure_above_the_text_is_not_text() -> None:
    note = ("<p>Every item here was chosen by our editors. We may earn a commission when you "
            "buy through links on this page.</p>")
    tree = _tree(f"<article>{note}{PARAS}</article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert "commission" not in text and text.startswith("Paragraph 0")


def test_a_table_of_contents_heading_is_not_text() -> None:
    toc = "<h2>Table of Contents</h2><ul><li><a href='#a'>Part one</a></li></ul>"
    tree = _tree(f"<article>{toc}{PARAS}</article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert "Contents" not in text and text.startswith("Paragraph 0")


def test_the_filing_line_and_the_feed_footer_under_the_text_are_not_text() -> None:
    tail = ("<p>Tags: river, flood | Categories: Local news</p>"
            "<p>The post Flood on the river appeared first on The Town Paper.</p>")
    tree = _tree(f"<article>{PARAS}{tail}</article>")
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    text = content.to_text(content.render(main, "https://example.org/"))
    assert text.endswith("see it.")


def _captions(page: str) -> list[str | None]:
    """Captions of the pictures the extractor finds in the body of ``page``."""
    tree = _tree(page)
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    blocks = content.render(main, "https://example.org/")
    return [b.image.caption for b in blocks if b.image is not None]


def test_the_picture_of_a_captioned_figure_survives_its_class_names_and_aria_hidden() -> None:
    page = (f"<article>{PARAS}<figure class='widget-photo'><img class='widget-photo-img' "
            f"src='/a.jpg'><figcaption>The bank at dawn.</figcaption></figure>"
            f"<figure><div aria-hidden='true'><img src='/b.jpg'></div>"
            f"<figcaption>The ferry leaving.</figcaption></figure>{PARAS}</article>")
    assert _captions(page) == ["The bank at dawn.", "The ferry leaving."]
    # The speaker's face beside a quote is still hidden: the quote is the text.
    page = (f"<article>{PARAS}<figure><div aria-hidden='true'><img src='/c.jpg'></div>"
            f"<blockquote>We will rebuild the bridge before the winter comes.</blockquote>"
            f"<figcaption>Jane Doe, mayor</figcaption></figure></article>")
    tree = _tree(page)
    content.prune(tree)
    assert tree.find(".//img") is None


def test_a_custom_image_element_is_a_picture() -> None:
    page = (f"<article><figure><x-image src='/a.jpg' alt=''></x-image>"
            f"<figcaption><span class='caption'>The bank at dawn.</span></figcaption></figure>"
            f"{PARAS}</article>")
    assert _captions(page) == ["The bank at dawn."]


def test_a_photo_declared_large_is_kept_whatever_its_class_names() -> None:
    page = (f"<article>{PARAS}<div><img class='img-share' src='/a.jpg' width='640' "
            f"height='480'><p class='image-caption'>The bank at dawn.</p></div>{PARAS}"
            f"<img class='share-icon' src='/s.png' width='24' height='24'></article>")
    assert _captions(page) == ["The bank at dawn."]


def test_a_bold_sentence_under_an_uncaptioned_figure_is_its_caption() -> None:
    page = (f"<article>{PARAS}<figure><img src='/a.jpg'></figure>"
            f"<p><strong>The mayor at the flooded bridge.</strong></p>{PARAS}"
            f"<figure><img src='/b.jpg'></figure><p><strong>What comes next</strong></p>"
            f"{PARAS}</article>")
    tree = _tree(page)
    content.prune(tree)
    main = content.find_main(tree)
    assert main is not None
    blocks = content.render(main, "https://example.org/")
    assert [b.image.caption for b in blocks if b.image is not None] == [
        "The mayor at the flooded bridge.", None]
    text = content.to_text(blocks)
    assert "What comes next" in text and "flooded bridge" not in text


def _lead_captions(page: str) -> list[tuple[str | None, str | None]]:
    """(caption, credit) of the pictures found outside the text container of ``page``."""
    tree = _tree(page)
    content.prune(tree)
    main = content.find_main(tree)
    return [(i.caption, i.credit)
            for i in content.outside_figures(tree, main, "https://example.org/")]


def test_the_lead_picture_of_an_article_without_a_headline_element() -> None:
    page = (f"<article><header><div class='title'>Flood in the valley</div><picture>"
            f"<img src='/a.jpg' alt='Water over the valley road after a night of rain.'>"
            f"</picture></header><div class='text'>{PARAS}</div></article>")
    assert _lead_captions(page) == [("Water over the valley road after a night of rain.", None)]


def test_the_plain_line_under_the_lead_picture_is_its_caption() -> None:
    page = (f"<article><h1>Flood in the valley</h1><div class='lead'>"
            f"<span>Foto: Jane Doe</span><img src='/a.jpg' alt=''>"
            f"<div>Water over the valley road after a night of rain</div></div>"
            f"<div class='text'>{PARAS}</div></article>")
    assert _lead_captions(page) == [("Water over the valley road after a night of rain",
                                     "Jane Doe")]
    # A line of text that is a link (a teaser title) is not a caption.
    page = page.replace("<div>Water", "<div><a href='/x'>Water").replace("rain</div>",
                                                                        "rain</a></div>")
    assert _lead_captions(page) == []


def test_teaser_cards_are_not_the_articles_pictures() -> None:
    from feeder.extract import extract

    teaser = ("<div class='readmore'><p class='subtitle'>Czytaj więcej</p><figure>"
              "<img src='/t/orban.jpg' alt='Viktor Orbán'><figcaption>Czytaj więcej</figcaption>"
              "</figure><a href='/other'>Orbán meets the chancellor</a></div>")
    page = ("<html><head><title>Border vote</title></head><body>"
            "<aside><figure><img src='/v/clip.jpg'><figcaption>2:34 Russia launches drills"
            "</figcaption></figure><figure><img src='/v/rel.jpg'><figcaption>RELATED: Drones "
            "over the Baltic</figcaption></figure></aside>"
            f"<article><h1>Border vote</h1><figure><img src='/p/merz.jpg'><figcaption>Friedrich "
            f"Merz in the Bundestag</figcaption></figure>{PARAS}{teaser}{PARAS}</article>"
            "</body></html>")
    art = extract(page, "https://news.example/border-vote", timezone="UTC")
    assert [i.caption for i in art.images] == ["Friedrich Merz in the Bundestag"]
    assert "orban.jpg" not in art.content_html


def test_a_teaser_card_in_the_text_is_not_a_picture_of_the_article() -> None:
    from feeder.extract import extract

    card = ("<div class='box'><a href='/other-story.htm'><img src='/thumb/other.jpg'></a>"
            "<a class='title' href='/other-story.htm'>The coastal highway opens by the end of the"
            " year</a></div>")
    product = ("<div class='product'><a href='https://shop.example/p/123'><img "
               "src='/img/kettle.jpg'></a><a href='https://shop.example/p/123'>Steel kettle, "
               "1.7 litres, by Hearth</a></div>")
    page = ("<html><head><title>Road works</title></head><body><article><h1>Road works</h1>"
            f"{PARAS}{card}{product}{PARAS}</article></body></html>")
    art = extract(page, "https://news.example/road-works.htm", timezone="UTC")
    assert [i.url for i in art.images] == ["https://news.example/img/kettle.jpg"]

"""Authors: cleaning names from structured data and bylines, and Vietnamese credit lines.

A Vietnamese article often names its reporters in a credit line at the top or the end of the body:
"Tin, ảnh: TRÍ NHÂN", "Bài và ảnh: HOÀNG ANH - MINH THƯ" (two authors), "Tin: ...". Names in
capitals become title case ("Trí Nhân"). "Theo TTXVN" and "Nguồn: ..." credit a source, not
an author.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lxml import etree

# "Posted" in the German, French and Spanish bylines of blog software ("Eingestellt von X").
_POSTED = r"eingestellt|veröffentlicht|geschrieben|verfasst|publié|publicado|escrito"
# Leading words of a byline in the languages we meet ("By", "Von", "Tác giả:" ...).
_PREFIX_RE = re.compile(
    r"^\s*(?:(?:" + _POSTED + r")\s+(?:von|par|por)|"
    r"written\s+by|posted\s+by|reported\s+by|story\s+by|words\s+by|by|von|par|por|di|door|"
    r"av|af|tekst|texto|text|autor(?:in)?|author|tác giả|bài|viết bởi)\s*[:\-]?\s+",
    re.IGNORECASE)
# Splits a byline into names: commas, "and", "&", "und", "và", " - " between capitalised names
# ("e" joins names in Italian and Portuguese; "e.V." after a German association joins nothing).
_SPLIT_RE = re.compile(
    r"\s*(?:,|;|/|\s&\s|\band\b|\bund\b|\bet\b|\by\b|\bvà\b|\be\b(?!\.)|\bog\b|\boch\b|\ben\b|"
    r"\s[-–—]\s|\|)\s*",
    re.IGNORECASE)
_NOT_NAME_RE = re.compile(
    r"@|https?://|www\.|\.com\b|\d{3,}|\d[./:]\d|^[\d\s]+$|^(?:admin|administrator|editor|"
    r"guest|unknown|anonymous)$",
    re.IGNORECASE)
_ROLE_ONLY_RE = re.compile(
    r"^(?:senior |chief |staff |contributing |freelance |guest )?(?:reporter|correspondent|writer|"
    r"editor|redakteur(?:in)?|journalist(?:in)?|autor(?:in)?|author|columnist|contributor|"
    r"photographer|fotograf(?:in)?)$", re.IGNORECASE)
_DATEISH_RE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januar|februar|märz|mai|juni|juli|"
    r"oktober|dezember|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|"
    r"décembre)[a-zä]*\.?(?:\s|$)|\b(?:ago|min|hour|hours|uhr)\b", re.IGNORECASE)
_URL_RE = re.compile(r"https?://|www\.|\w@\w")
# Trailing role or place after a name: "John Smith, Reporter", "Jane Doe (dpa)".
_TRAIL_RE = re.compile(r"\s*(?:\(.*?\)|\[.*?\]|기자|記者|특파원)\s*$|"
                       r"(?:\s*[,|/–—-]\s*|\s+)(?:reporter|correspondent|staff writer|"
                       r"redakteur(?:in)?|journalist(?:in)?)\s*$", re.IGNORECASE)
# "Guardian staff reporter" is the name itself, not a name plus a role.
_STAFF_RE = re.compile(r"\b(?:staff|desk|team|redaktion)\s+\w+\s*$", re.IGNORECASE)
# Academic and professional credentials after a name stay with it ("Jane Roe, MD").
_CREDENTIALS = {
    "md", "m.d.", "do", "phd", "ph.d.", "ms", "msc", "ma", "ba", "bs", "bsc", "rd", "rdn", "rn",
    "dvm", "vmd", "mba", "mph", "cpa", "jd", "lvt", "cfp", "cfa", "dacvb", "faclm", "foma",
    "dabom", "ld", "cde", "cscs", "np", "pa-c", "dds", "dmd", "pharmd", "msn", "fnp", "lcsw", "lpc",
    "esq", "esq.", "facp", "faan", "ibclc", "cdces", "ldn", "nasm-cpt", "acsm", "pt", "dpt",
}
# Photo credits inside an author value: "(Image: Getty Images, iStockphoto)".
_IMAGE_CREDIT_RE = re.compile(r"\(?\s*(?:image|images|photo|photos|foto|fotos|bild|picture|"
                              r"ảnh)\s*:[^)]*\)?", re.IGNORECASE)
_SLUG_RE = re.compile(r"^[a-z]+(?:-[a-z]+)+$")
# Particles that stay lower-case inside a name ("Ursula von der Leyen", "Lê Văn de Souza").
_PARTICLES = {"von", "van", "der", "den", "de", "da", "di", "du", "del", "la", "le", "bin", "al",
              "y", "dos", "das", "ter", "zu", "af"}


def smart_title(name: str) -> str:
    """Title-case a name written in capitals ("TRÍ NHÂN" -> "Trí Nhân"); leave mixed case alone."""
    letters = [c for c in name if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 2 and (
            " " in name.strip() or len(letters) > 4):  # "AFP", "APA" stay acronyms
        # A word without a vowel is an abbreviation ("NHÓM PV" -> "Nhóm PV"): every syllable of
        # a name has one.
        return " ".join(w[:1].upper() + w[1:].lower() if _has_vowel(w) else w
                        for w in name.split(" "))
    return name


def _has_vowel(word: str) -> bool:
    # Decomposed, "Ộ" is "O" plus its marks: one class covers every accented vowel.
    return bool(_VOWEL_RE.search(unicodedata.normalize("NFD", word.lower())))


_VOWEL_RE = re.compile(r"[aeiouyæøœ]")


def clean_name(raw: str) -> str | None:
    """One author name, or None when the text is not a plausible person or desk name."""
    name = re.sub(r"\s+", " ", raw).strip(" \t\n,.;:|-–—·•~")
    name = _PREFIX_RE.sub("", name)
    if not _STAFF_RE.search(name):
        name = _TRAIL_RE.sub("", name).strip(" ,.;:|-–—")
    if _SLUG_RE.match(name):  # an author slug ("jane-doe") where a name belongs
        name = " ".join(w.capitalize() for w in name.split("-"))
    if not name or len(name) > 60 or _NOT_NAME_RE.search(name) or _ROLE_ONLY_RE.match(name):
        return None
    if any(c.isdigit() for c in name) and _DATEISH_RE.search(name):
        return None  # "Dec. 19" from "Dec. 19, 2025" split at the comma
    if len(name.split()) > 6:
        return None
    return smart_title(name)


def looks_like_name(name: str) -> bool:
    """A visible byline part that reads as a person's name: 2-5 capitalised words."""
    words = name.split()
    if not 2 <= len(words) <= 5 or any(c in name for c in "?!:;\"“”«»"):
        return False
    return all(w[:1].isupper() or w.lower() in _PARTICLES or not w[:1].isalpha() for w in words)


def split_names(raw: str) -> list[str]:
    """A byline string into cleaned names, in order, without repeats."""
    text = _PREFIX_RE.sub("", re.sub(r"\s+", " ", raw).strip())
    if _URL_RE.search(text):  # an author page URL is not a byline (and "/" would split it)
        return []
    text = _IMAGE_CREDIT_RE.sub(" ", text).strip()
    # "Hồng Nhung/VOV.VN", "Trần Hòa/TTXVN": the agency after the slash is not a second name.
    text = _AGENCY_TAIL_RE.sub("", text)
    # "David Jackson - FullStack Editorial Team": the desk after the person is an affiliation.
    person, dash, desk = text.partition(" - ")
    if dash and _DESK_RE.search(desk) and not _DESK_RE.search(person) and looks_like_name(person):
        text = person
    # "Linny and Peter", "Center for Drug Evaluation and Research": one credit, not two names.
    m = _AND_RE.fullmatch(text)
    if m and ((" " not in m.group(1).strip() and " " not in m.group(2).strip())
              or _has_function_word(m.group(1)) or _has_function_word(m.group(2))):
        name = clean_name(text)
        return [name] if name else []
    names: list[str] = []
    for part in _SPLIT_RE.split(text):
        if names and part and part.strip() and all(
                tok.strip(" .").lower().replace(".", "") in _CREDENTIALS for tok in part.split()):
            cred = part.strip()
            cred = cred.rstrip(".") if cred.count(".") == 1 else cred  # "DVM." but "M.D."
            names[-1] = f"{names[-1]}, {cred}"
            continue
        name = clean_name(part or "")
        if name and name not in names:
            names.append(name)
    return names


# A news agency after a slash: "/VOV.VN", "/TTXVN", "/AP" (capitals, case-sensitive).
_AGENCY = r"/\s*[A-Z][A-Za-z]*[A-Z][A-Z.]*"
_AGENCY_TAIL_RE = re.compile(r"\s*" + _AGENCY + "$")
_AND_RE = re.compile(r"([^,;&/]+?)\s+(?:and|und|&|et|y|và)\s+([^,;&/]+)", re.IGNORECASE)
_FUNCTION_WORDS = {"for", "of", "the", "für", "des", "der", "du", "de la", "on", "in", "at"}


def _has_function_word(text: str) -> bool:
    words = text.lower().split()
    return len(words) > 1 and any(w in _FUNCTION_WORDS for w in words[1:])


# --- visible bylines and the choice between the sources ---------------------------------------
_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
           "December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
# A date or label glued to a name by the markup: "Scott MattonMarch 2, 2026".
_GLUE_RE = re.compile(r"(?<=[a-zà-ɏ])(?=(?:" + _MONTHS + r"|Last|Updated|Published|Posted|"
                      r"Reviewed|Research|Editor|Writer|Founder|Senior|Director|Reporter|"
                      r"Contributor|Journalist)\b|"
                      r"\d{1,2}(?:st|nd|rd|th)?\s+(?:" + _MONTHS + r")\b)")
_GENERIC_DESK_RE = re.compile(r"^\s*(?:the\s+)?(?:staff|team|redaktion|editorial|newsroom|desk|"
                              r"editors)\s*$", re.IGNORECASE)
_SOCIAL_RE = re.compile(r"\b(?:share|twitter|facebook|linkedin|instagram|whatsapp|telegram|"
                        r"youtube|tiktok|e-?mail|print|follow|subscribe|newsletter)\b",
                        re.IGNORECASE)
_DESK_RE = re.compile(r"\b(?:staff|team|redaktion|editors|desk|newsroom|editorial|reporter)\b",
                      re.IGNORECASE)
# What follows the name in a byline sentence: "... on Friday December 19", "on behalf of ...".
_TAIL_RE = re.compile(r"[\s.]+(?:(?:medically\s+)?reviewed by\b|fact[- ]checked by\b|"
                      r"edited by\b|on behalf of\b|on\s+(?:\d|(?:mon|tue|wed|thu|fri|sat|sun)\w*\b|"
                      r"(?:" + _MONTHS + r")\b)|from the\b|updated\b|published\b|posted\b|"
                      r"last updated\b|stand:|am\s+\d|\d{1,2}[./]\d{1,2}[./]\d{2,4}|"
                      r"(?:" + _MONTHS + r")\.?\s+\d).*$", re.IGNORECASE)
_BY_RE = re.compile(r"^\s*(?:(?:written|posted|reported|story|words|text|" + _POSTED + r")\s+)?"
                    r"(?:by|von|par|por)\b\s*:?", re.IGNORECASE)
# Job titles printed after a name in a byline box ("Liz Kenny Former McKinsey Consultant").
_ROLE_WORDS = {
    "former", "senior", "staff", "founder", "co-founder", "cofounder", "writer", "editor",
    "contributor", "contributing", "freelance", "chief", "lead", "head", "managing", "deputy",
    "associate", "correspondent", "reporter", "reviewer", "columnist", "redakteur", "redakteurin",
    "autor", "autorin", "journalist", "journalistin", "editorial", "research", "ceo", "cto",
    "director", "manager", "expert", "specialist", "consultant", "analyst", "tech", "content",
    "marketing", "product", "writers", "editors", "fact-checker", "photographer",
}


def _cut_role(name: str) -> str:
    words = name.split()
    for i in range(2, len(words)):
        if words[i].lower().strip(",.&") in _ROLE_WORDS:
            return " ".join(words[:i])
    return name


# Words of a site's account menu, which some sites mark up like a byline box.
_ACCOUNT_RE = re.compile(r"\b(?:sign (?:in|up|out)|log (?:in|out)|my account|create account)\b",
                         re.IGNORECASE)


def visible_names(text: str) -> list[str]:
    """Person names in a visible byline box; junk ("Share", dates, job titles) left out."""
    text = _GLUE_RE.sub(" | ", re.sub(r"\s+", " ", text))
    if re.search(r"\bsays:?\s*$", text):
        return []  # "Jane, says:": a comment's author
    if _ACCOUNT_RE.search(text):
        return []  # "Sign In | Sign Up | My Account": the site's account menu
    for seg in re.split(r"\s*[·•|⋅∙]\s*", text):
        explicit = bool(_BY_RE.match(seg))
        seg = _TAIL_RE.sub("", _BY_RE.sub("", seg)).strip()
        if not seg:
            continue
        names: list[str] = []
        for i, n in enumerate(split_names(seg)):
            if i and n.split()[-1].lower().strip(",.&") in _ROLE_WORDS:
                continue  # "Paul Frew, Home and Digital Security Expert": a job title
            n = _cut_role(n)
            if all(w.lower().strip(",.&") in _ROLE_WORDS for w in n.split()):
                continue
            if looks_like_name(n) and not _SOCIAL_RE.search(n):
                names.append(n)
        if not names and explicit:
            # "Posted by BeauHD": a handle or a single name after an explicit "by".
            single = re.split(r"\s+[-–—|]\s+|,\s*", seg, maxsplit=1)[0].strip(" ,.")
            if re.fullmatch(r"[\w.'-]{3,30}", single) and not single.isdigit():
                names.append(single)
        if names:
            return list(dict.fromkeys(names))
    return []


_BY_START_RE = re.compile(r"^\s*(?:(?:[Ww]ritten|[Pp]osted|[Rr]eported|[Ss]tory|[Ww]ords)\s+)?"
                          r"(?:[Bb]y|BY|[Vv]on)\s*:?\s+[^\W\d_][\w'.-]*\s+[^\W\d_]")
# A label printed before the author's name: "<strong>Autorin/Autor</strong> Roman Goncharenko".
_AUTHOR_LABEL_RE = re.compile(r"^\s*(?:autor(?:in)?(?:\s*/\s*autor(?:in)?)?|author|authors|"
                              r"contributors?|by|von|written by|tác giả|auteur|autore|forfatter|"
                              r"skribent)\s*:?\s*$", re.IGNORECASE)


def label_text(el: Any) -> str | None:
    """The name after an author label element ("<b>Author:</b> Jane Doe"), else None."""
    if not _AUTHOR_LABEL_RE.match("".join(el.itertext())):
        return None
    tail = (el.tail or "").strip()
    if not tail:
        nxt = el.getnext()
        tail = " ".join("".join(nxt.itertext()).split()) if nxt is not None else ""
    return tail if 2 < len(tail) < 80 else None


_BY_WORD_RE = re.compile(r"^\s*(?:(?:written|posted|reported|story|words|" + _POSTED + r")\s+)?"
                         r"(?:by|von)\s*:?\s*$", re.IGNORECASE)


def is_by_word(text: str) -> bool:
    """True for a text that is only "By" / "von" / "Posted by:" (the name follows in a link)."""
    return len(text.strip()) < 24 and bool(_BY_WORD_RE.match(text))


def starts_with_by(text: str) -> bool:
    """True for a text that opens like a byline: "By Jane Doe", "by: Jane Doe", "Von ..."."""
    return bool(_BY_START_RE.match(text))


def box_text(el: Any) -> str:
    """The text of a byline box; names in sibling elements without separators ("<span>Jane
    Doe</span><span>John Roe</span>") are joined with commas so that they split apart."""
    node = el
    while len(node) == 1 and not (node.text or "").strip() and not (node[0].tail or "").strip():
        node = node[0]
    kids = [k for k in node if isinstance(k.tag, str)]
    if (len(kids) >= 2 and not (node.text or "").strip()
            and not any((k.tail or "").strip() for k in kids)):
        parts = [" ".join("".join(k.itertext()).split()) for k in kids]
        parts = [p for p in parts if p]
        if len(parts) >= 2 and all(len(p) < 60 and " " in p for p in parts):
            return ", ".join(parts)
    return " ".join(_broken_text(el).split())


def _broken_text(el: Any) -> str:
    """The text of ``el`` with each line break as " | ": "By Jane Doe<br>Health News" holds
    a name and a desk, not the name "Jane Doe Health News"."""
    out = [el.text or ""]
    for kid in el:
        if kid.tag == "br":
            out.append(" | ")
        elif isinstance(kid.tag, str):
            out.append(_broken_text(kid))
        out.append(kid.tail or "")
    return "".join(out)


def line_text(el: Any) -> str:
    """The text of a "By ..." line with its list items apart: "Written by: <ul><li>Jane
    Doe</li><li>John Roe</li></ul>" reads "Written by: Jane Doe, John Roe", not "Jane DoeJohn
    Roe"."""
    def walk(node: Any) -> list[str]:
        out = [node.text or ""]
        items = 0
        for kid in node:
            if isinstance(kid.tag, str):
                if kid.tag == "li":
                    if items:
                        out.append(", ")
                    items += 1
                out.extend(walk(kid))
            out.append(kid.tail or "")
        return out
    return " ".join("".join(walk(el)).split())


def signatures(tree: Any, opening: set[str] | None = None) -> set[str]:
    """Texts of lines that hold only the author's name as a signature: a right-aligned paragraph
    or div (no block inside), bold or not ("<p style='text-align:right'><em>Lê Phương</em></p>"),
    or a bold paragraph that closes the text or holds several names.

    ``opening`` receives the texts of paragraphs that hold only one bold name and come first in
    their container ("<p><strong>Jane Doe</strong></p>"): a byline when it opens the text.
    """
    out: set[str] = set()
    body = tree.find("body")
    if body is None:
        return out
    for p in [*body.iter("p"), *_ALIGNED_DIVS(body)]:
        style = (p.get("style") or "").replace(" ", "").lower()
        right = "text-align:right" in style or (p.get("align") or "").lower() == "right"
        if p.tag == "div" and (not right or any(kid.tag in _BLOCK_TAGS for kid in p)):
            continue  # a div is a signature only as a right-aligned line, not a container
        bold = None if right else p.find(".//strong")
        if bold is None and not right:
            bold = p.find(".//b")
            if bold is None:
                continue
        text = " ".join("".join(p.itertext()).split())
        if not text or len(text) > 60:
            continue
        parts = [x.strip() for x in _VN_NAME_SPLIT_RE.split(text) if x.strip()]
        if right:
            # "Theo TTXVN" aligned right credits a source; "Theo Hồ Hương" is read as a credit
            # line (see credit_line), not as a name that starts with "Theo".
            if parts and not _SOURCE_RE.match(text) and all(looks_like_name(x) for x in parts):
                out.add(text)
            continue
        if bold is None or " ".join("".join(bold.itertext()).split()) != text:
            continue
        if len(parts) >= 2 and all(looks_like_name(x) for x in parts):
            out.add(text)  # a bold line of several names ("Jane Doe/John Roe")
        elif (len(parts) == 1 and len(text.split()) <= 4 and looks_like_name(text)
              and _last_in_parent(p)):
            out.add(text)  # "<p><b>Thanh Hà</b></p>" closing the text: the signature
        elif (opening is not None and len(parts) == 1 and len(text.split()) <= 4
              and looks_like_name(text) and _first_paragraph(p)):
            opening.add(text)
    return out


# Divs that may be aligned right (checked exactly in signatures()); XPath keeps the others out
# of the Python loop.
_ALIGNED_DIVS = etree.XPath(".//div[@align or contains(@style, 'right')]")
_BLOCK_TAGS = {"p", "div", "table", "ul", "ol", "section", "article", "figure", "h1", "h2", "h3",
               "h4", "blockquote", "header", "footer", "form"}


def _last_in_parent(p: Any) -> bool:
    """True when ``p`` follows a paragraph of text and nothing with text follows it."""
    if any("".join(n.itertext()).strip() for n in p.itersiblings() if isinstance(n.tag, str)):
        return False
    prev = p.getprevious()
    return prev is not None and prev.tag == "p" and len("".join(prev.itertext())) > 80


def _first_paragraph(p: Any) -> bool:
    """True when no paragraph with text comes before ``p`` in its parent."""
    for prev in p.itersiblings(preceding=True):
        if prev.tag == "p" and "".join(prev.itertext()).strip():
            return False
    return True


def is_site_author(name: str, sites: list[str], url: str) -> bool:
    """True when an author value names the site or its publisher, not a person."""
    from feeder.extract.title import _host_labels, _squash

    p = _squash(name)
    if not p:
        return True
    if names_site(name):
        return True
    if _GENERIC_DESK_RE.match(name):
        return True  # a bare "Staff" / "Team": kept only when the page names nobody else
    if _DESK_RE.search(name):
        return False  # "BR24 Redaktion", "Resy Staff": the site's desk signs as an author
    for s in sites:
        q = _squash(s)
        if q and (p == q or (len(p) >= 4 and len(q) >= 3 and (q.startswith(p) or
                                                              p.startswith(q)))):
            return True
    host, labels = _host_labels(url)
    for lab in {*labels, host}:
        if len(lab) >= 3 and (p == lab or (p.startswith(lab) and not looks_like_name(name))):
            return True
    first = _squash(name.split()[0])
    return (len(first) >= 5 and any(lab.startswith(first) for lab in labels)) or (
        len(first) >= 3 and first in labels)


# A host name where a person's name belongs: "baolongan.vn", "Example.com".
_DOMAIN_RE = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:[a-z]{2}|com|net|org|info|biz|gov|edu|news|"
                        r"online|site|media|press|blog|io|tv)$", re.IGNORECASE)


def names_site(name: str, url: str = "") -> bool:
    """True when an author value is a web address or names a news outlet ("Báo Long An"),
    whatever the site: never a person. With the page's ``url``, its own host name ("ndr.de"
    on www.ndr.de) counts whatever its top-level domain."""
    from feeder.extract.title import _hostname, _is_vn_outlet

    text = name.strip()
    if _DOMAIN_RE.match(text) or _is_vn_outlet(text):
        return True
    host = _hostname(url) if url and "." in text and " " not in text else ""
    low = text.lower()
    return bool(host) and (host == low or host.endswith("." + low))


_EDITOR_LABEL_RE = re.compile(r"^\s*(?:editor|redakteur(?:in)?|redaksi|penyunting|editado por|"
                              r"édité par|biên tập)\s*:\s*", re.IGNORECASE)


def _visible_people(bylines: list[str], sites: list[str],
                    url: str) -> tuple[list[str], list[str]]:
    """The first byline's person names, and the names the bylines credit as editors."""
    shown: list[str] = []
    editors: list[str] = []
    for text in bylines:
        if _EDITOR_LABEL_RE.match(text):
            editors.extend(split_names(_EDITOR_LABEL_RE.sub("", text)))
            continue
        if not shown and not is_source_credit(text):
            shown = [n for n in visible_names(text) if not is_site_author(n, sites, url)]
    return shown, editors


def choose(structured: list[tuple[list[str], str]], bylines: list[str], credit: list[str],
           sites: list[str], url: str) -> tuple[list[str], str | None]:
    """The article's authors and where they came from.

    Structured data first, but a value that only names the site or publisher ("STERN.de", the
    newspaper as JSON-LD author) gives way to a person named in a visible byline or credit line;
    it is kept only when the page names nobody else.
    """
    fallback: tuple[list[str], str] | None = None
    shown, editors = _visible_people(bylines, sites, url)
    for names, src in structured:
        cleaned: list[str] = []
        for n in names:
            cleaned.extend(split_names(n))
        cleaned = list(dict.fromkeys(cleaned))
        people = [n for n in cleaned if not is_site_author(n, sites, url)]
        if people:
            have = {n.casefold() for n in people}
            seen = {n.casefold() for n in shown}
            if shown and have <= {e.casefold() for e in editors} and not seen & have:
                return shown, "byline"  # the metadata "author" is the page's editor
            return people, src
        # Only the site's own name: a last resort, since the page credits it ("BBC News"). A
        # web address or a news outlet's name ("ndr.de", "Báo Long An") is one only where the
        # article itself credits it (its JSON-LD or microdata author); a <meta> author tag
        # that names the site is the site's default for every page (listing pages carry it
        # too), not a credit.
        if src not in _ARTICLE_CREDITS:
            cleaned = [n for n in cleaned if not names_site(n, url)]
        if cleaned and fallback is None:
            fallback = (cleaned, src)
    for text in bylines:
        if is_source_credit(text):
            continue
        credited = credit_line(text)  # "Tin: LÊ MINH" in a byline box
        if credited:
            return credited, "byline"
        shown = visible_names(text)
        found = [n for n in shown if not is_site_author(n, sites, url)]
        if found and fallback and fallback[1] != "byline" and all(
                _AGENCY_RE.fullmatch(n) for n in found):
            return fallback  # "von APA" under a story the site signs: the site's author stands
        if found:
            return found, "byline"
        shown = [n for n in shown if not names_site(n, url)]
        if shown and fallback is None:
            fallback = (shown, "byline")
    if credit:
        return credit, "credit-line"
    if fallback:
        return fallback
    repeated = _repeated_box_name(bylines)
    if repeated:
        return [repeated], "byline"
    return [], None


# Structured sources that credit this article, not the whole site.
_ARTICLE_CREDITS = ("json-ld", "microdata")
# A news agency's short name: an acronym in capitals ("APA", "AFP").
_AGENCY_RE = re.compile(r"[A-Z]{2,5}")


def _repeated_box_name(bylines: list[str]) -> str | None:
    """A short name that byline boxes repeat (header and footer of the article: "Newsdesk",
    a lower-case handle), when nothing else names an author."""
    seen: set[str] = set()
    for text in bylines:
        t = " ".join(text.split()).strip(" ,.;:|")
        if t in seen and 1 <= len(t.split()) <= 3 and len(t) <= 40 and not any(
                c.isdigit() for c in t) and not _SOCIAL_RE.search(t) and not is_source_credit(
                t) and clean_name(t) == t:
            return t
        seen.add(t)
    return None


# --- Vietnamese credit lines -------------------------------------------------------------------
# "Tin, ảnh: X", "Bài và ảnh: X", "Bài, ảnh: X", "Tin: X", "Bài: X", "Nhóm PV", "Tin và ảnh: X".
_CREDIT_RE = re.compile(
    r"^\s*(?:(?:tin|bài|bài viết|ghi chép|ảnh|clip|video|thực hiện)"
    r"(?:\s*(?:,|và|&|\+|-)\s*(?:ảnh|clip|video|tin|bài))*)\s*:\s*(?P<names>.+?)\s*\.?\s*$",
    re.IGNORECASE)
# Source credits, not authors: "Theo TTXVN", "Nguồn: VTV", "(Theo Reuters)".
_SOURCE_RE = re.compile(r"^\s*\(?\s*(?:theo|nguồn|source|quelle)\b", re.IGNORECASE)
_SECOND_ROLE_RE = re.compile(r"[\s,;|\-–—]*\b(?:ảnh|clip|video|đồ họa|thiết kế|trình bày)\s*:",
                             re.IGNORECASE)
# A signature with its agency or status: "Thu Hằng (TTXVN)", "Minh Anh (CTV)", "Lê Phương (tổng
# hợp)", "Tuấn Anh (Theo Reuters)", "Hồng Nhung/VOV.VN".
# Only the Vietnamese words are matched in any case: an agency is written in capitals.
_AGENCY_SIGNATURE_RE = re.compile(r"^(?P<name>(?:\w[\w'’-]*\s+){1,3}\w[\w'’-]*)\s*"
                                  r"(?:\((?:[A-Z][A-Z.]{1,11}|(?i:tổng hợp|theo [^()]{2,30}))\)"
                                  r"|" + _AGENCY + r")$")


def _agency_signature(line: str) -> str | None:
    m = _AGENCY_SIGNATURE_RE.match(line)
    if m is None:
        return None
    name = m.group("name")
    if not all(w[0].isupper() for w in name.split()):
        return None  # "Đây là kết quả (ABC)": a sentence, not a name
    return clean_name(name)
_VN_NAME_SPLIT_RE = re.compile(r"\s*(?:,|;|\s[-–—]\s|\bvà\b|&|/)\s*", re.IGNORECASE)


def credit_line(text: str) -> list[str] | None:
    """The authors named by a Vietnamese credit line, or None when ``text`` is not one."""
    line = re.sub(r"\s+", " ", text).strip()
    if not line or len(line) > 90:
        return None
    if _SOURCE_RE.match(line):
        person = _theo_person(line)
        return [person] if person else None
    m = _CREDIT_RE.match(line)
    if m is None:
        return None
    # "Bài: NGUYỄN VĂN AN - Ảnh: TRẦN BÌNH": the writer is the author; the photographer's
    # credit that follows is not.
    written = _SECOND_ROLE_RE.split(m.group("names"), maxsplit=1)[0]
    names = [clean_name(p) for p in _VN_NAME_SPLIT_RE.split(written)]
    result = [n for n in names if n]
    return result or None


def is_source_credit(text: str) -> bool:
    """True for "Theo TTXVN", "Nguồn: ..." lines: credits that are not authors ("Theo Hồ
    Hương" names the writer: see :func:`credit_line`)."""
    line = " ".join(text.split())
    return len(line) < 90 and bool(_SOURCE_RE.match(line)) and _theo_person(line) is None


# "Theo Hồ Hương": "according to" a person is the writer's credit; "Theo TTXVN", "Theo báo Tuổi
# Trẻ", "Theo VnExpress.net" name a source.
_THEO_RE = re.compile(r"^\(?\s*theo\s+(?P<name>[^()]+?)\s*\)?\s*\.?$", re.IGNORECASE)


def _theo_person(line: str) -> str | None:
    m = _THEO_RE.match(line)
    if m is None:
        return None
    name = m.group("name").strip()
    if (not looks_like_name(name) or len(name.split()) > 4 or names_site(name)
            or any(w.isupper() and len(w) > 1 for w in name.split())):
        return None  # an agency in capitals, an outlet, a domain: a source, not a writer
    return clean_name(name)


# A credit at the end of the last paragraph: "... đang điều tra. Tin, ảnh: TRÍ NHÂN", "...
# trường học. Theo Hồ Hương" (only a person's name after "Theo" makes it one: see credit_line).
_TRAILING_CREDIT_RE = re.compile(r"(?<=[.!?…”\"»)])\s+(?=(?:tin|bài|ảnh)\b[^.:]{0,20}:|theo\s)",
                                 re.IGNORECASE)


def trailing_credit(text: str) -> tuple[str, list[str]] | None:
    """A credit line printed at the end of a paragraph of text: the text before it and the
    names, or None."""
    parts = _TRAILING_CREDIT_RE.split(text.strip())
    if len(parts) < 2:
        return None
    names = credit_line(parts[-1])
    if not names:
        return None
    return " ".join(parts[:-1]).strip(), names


def lone_name(text: str) -> list[str] | None:
    """A last paragraph that is only a name in capitals ("TRÍ NHÂN", "HOÀNG ANH - MINH THƯ"), or
    a name signed with its agency ("Thu Hằng (TTXVN)")."""
    line = re.sub(r"\s+", " ", text).strip(" .")
    if not line or len(line) > 50 or _SOURCE_RE.match(line):
        return None
    signed = _agency_signature(line)
    if signed:
        return [signed]
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 4 or not all(c.isupper() for c in letters):
        return None
    if any(ch.isdigit() for ch in line):
        return None
    parts = [clean_name(p) for p in _VN_NAME_SPLIT_RE.split(line)]
    names = [p for p in parts if p and 1 <= len(p.split()) <= 5]
    return names or None

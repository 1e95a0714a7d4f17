"""The headline: the article's own, never with a site-name prefix or suffix.

The visible h1 wins when it matches a metadata title (equal, or the metadata title is the h1 plus
a site name); otherwise (see :func:`choose`) the structured headline, then OpenGraph / ``<title>``
with the site name cut off. A part is a site name when it matches ``og:site_name`` / the JSON-LD
publisher, the host or the site name's initials. A kicker printed inside the h1 (a span with a
kicker / overline class) is dropped when the metadata titles leave it out too.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from urllib.parse import urlsplit

from lxml import etree

from feeder.urls import host_of

_SEPARATORS_RE = re.compile(r"\s+[|\-–—·•»:/]\s+|\s*[|»]\s*|\s+::\s+")
_QUOTES_RE = re.compile(r"[\u2018\u2019\u201c\u201d\"'«»]")
# Class names of a kicker / overline printed inside or above the headline ("Dachzeile").
_KICKER_RE = re.compile(r"kicker|overline|topline|dachzeile|roofline|eyebrow|supertitle|"
                        r"super-title|pretitle|pre-title|overtitle|over-title|spitzmarke|"
                        r"surtitre|antetitulo|headline-intro|title__label|heading__label",
                        re.IGNORECASE)
_HIDDEN_RE = re.compile(r"(?:^|[\s_-])(?:sr-only|visually-?hidden|screen-?reader|offscreen|"
                        r"hidden)(?:$|[\s_-])", re.IGNORECASE)
_KICKER_SEP_RE = re.compile(r"\w\W*(?::|\s[-–—|])\s*$")
_LEAD_SEP_RE = re.compile(r"^[\s|\-–—:/·•»]+")
_STRING = etree.XPath("string()")


def h1_texts(h1: etree._Element) -> list[str]:
    """The headline text of an h1: without a kicker / overline element printed inside it, then
    the whole text (the metadata titles decide which of the two the site calls its headline)."""
    drop = []
    for el in h1.iterdescendants():
        if not isinstance(el.tag, str):
            continue
        attrs = f"{el.get('class') or ''} {el.get('id') or ''}"
        if len(attrs) > 2 and (_KICKER_RE.search(attrs) or _HIDDEN_RE.search(attrs)
                               or el.get("aria-hidden") == "true"):
            drop.append(el)
    full = _clean_h1(str(_STRING(h1)))
    if not drop:
        return [full]
    removed = [" ".join(str(_STRING(el)).split()) for el in drop]
    rest = full
    for part in removed:
        if part:
            rest = rest.replace(part, " ", 1)
    rest = " ".join(_LEAD_SEP_RE.sub("", rest).split())
    # Keep the whole text when the "kicker" was in fact all of it.
    return [rest, full] if len(rest) >= 8 and rest != full else [full]


# A block whose class names it the headline ("entry-title", "post-title", "headline").
_HEADING_CLASS_RE = re.compile(r"(?:^|[\s_-])(?:title|headline|heading)(?:$|[\s_-])")
_NOT_HEADING_CLASS_RE = re.compile(r"site|logo|brand|menu|nav|widget|sidebar|footer|related|"
                                   r"comment|section|sub", re.IGNORECASE)


def visible_headings(tree: etree._Element, limit: int = 3) -> list[str]:
    """Headline-like texts of a page that has no usable h1: its first h2/h3 headings and blocks
    whose class names them a title, in page order. Only read when the h1 fails."""
    body = tree.find("body")
    if body is None:
        return []
    out: list[str] = []
    for el in body.iter("h2", "h3", "div", "span", "p", "header", "strong"):
        tag = el.tag
        if tag not in ("h2", "h3"):
            attrs = (el.get("class") or "").lower()
            if not attrs or not _HEADING_CLASS_RE.search(attrs) or len(el) > 3:
                continue
        if _NOT_HEADING_CLASS_RE.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
            continue
        if el.find(".//a") is not None and len(el.findall(".//a")) > 1:
            continue  # a list of links (a menu), not a headline
        text = _clean_h1(str(_STRING(el)))
        if 8 <= len(text) <= 300 and text not in out:
            out.append(text)
            if len(out) >= limit:
                break
    return out


def _short_text(el: etree._Element) -> str:
    return " ".join(str(_STRING(el)).split()) if len(el) < 8 else ""


def kicked_h1s(tree: etree._Element) -> list[str]:
    """The first headlines joined to the kicker printed right above them in its own element
    ("<div class=keyword>Nach Gaetz-Rückzug</div><h1>Trump-Anwältin ...</h1>"), as "Kicker:
    Headline". Only a metadata title that says exactly this makes it the headline (see
    :func:`choose`)."""
    out: list[str] = []
    for n, h1 in enumerate(tree.iter("h1")):
        if n >= 3:
            break
        head = _clean_h1(str(_STRING(h1)))
        if not 4 <= len(head) < 300:
            continue
        node = h1
        for _ in range(2):  # the h1's previous sibling, else its parent's
            prev = node.getprevious()
            while prev is not None and (not isinstance(prev.tag, str)
                                        or prev.tag in ("script", "style", "meta", "link")):
                prev = prev.getprevious()
            if prev is not None:
                texts = [_short_text(prev)]
                kids = [k for k in prev if isinstance(k.tag, str)]
                if kids:
                    texts.append(_short_text(kids[-1]))
                out.extend(f"{k}: {head}" for k in texts if 2 <= len(k) <= 80)
                break
            node = node.getparent()
            if node is None or node.tag == "body":
                break
    return out


_LABEL_RE = re.compile(r"^(?:title|titel|titre|título)\s*:\s*", re.IGNORECASE)


_MOJIBAKE_RE = re.compile(r"[ÃÂÅÄ][\u0080-\u00bf]|â€")


def _fix_mojibake(text: str) -> str:
    """UTF-8 read as Latin-1 / cp1252 ("fÃ¼r" -> "für"), repaired when it round-trips."""
    if not _MOJIBAKE_RE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return text


def _clean_h1(text: str) -> str:
    """Spaces folded, entities left escaped by the page undone, a "Title:" label dropped."""
    text = " ".join(text.split())
    if "&" in text:
        text = html.unescape(text)
    return _LABEL_RE.sub("", text)


# Least word overlap (F1) between an h1 and the metadata title for the h1 to be the headline
# when they disagree: "Contact Us" in a header is no wording of "Cybersecurity in the home".
_H1_AGREEMENT = 0.3


def words_f1(a: str, b: str) -> float:
    """Word-level F1 of two texts, compared case-folded (titles; a lead and a description)."""
    wa, wb = re.findall(r"\w+", norm(a)), re.findall(r"\w+", norm(b))
    if not wa or not wb:
        return 0.0
    common = sum((Counter(wa) & Counter(wb)).values())
    if not common:
        return 0.0
    p, r = common / len(wa), common / len(wb)
    return 2 * p * r / (p + r)


def norm(text: str) -> str:
    """Comparison form: NFC, case-folded, quotes dropped, spaces folded."""
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(_QUOTES_RE.sub("", text).split())


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", norm(text))


_PUNCT_RE = re.compile(r"[^\w\s]")
_SEPARATOR_CHARS = set(":|–—-/·•.,;")


def _adds_separators(h1: str, meta: str) -> bool:
    """True when ``meta`` is the h1's wording with only separators added (the h1's parts sat in
    separate elements): the h1's own punctuation ("?", "Japan- A") or emphasis marks in the
    metadata ("*Title*") say the h1 is printed as written."""
    have = Counter(_PUNCT_RE.findall(norm(h1)))
    want = Counter(_PUNCT_RE.findall(norm(meta)))
    extra = want - have
    return not (have - want) and bool(extra) and set(extra) <= _SEPARATOR_CHARS


def _shortened(short: str, long: str) -> bool:
    """True when ``short`` is ``long`` with words left out: every word of it is the next of
    ``long``'s words in order ("Vädjar efter attackerna: kritiskt" from "Zelenskyj vädjar efter
    nya attackerna: Kritiskt att ..."), and at least one word is gone."""
    want = re.findall(r"\w+", norm(short))
    words = re.findall(r"\w+", norm(long))
    have = iter(words)
    return bool(want) and all(w in have for w in want) and len(want) < len(words)


def _initials(name: str) -> str:
    return "".join(w[0] for w in re.findall(r"\w+", norm(name)) if w)


# A Vietnamese outlet's name: "Báo Bình Sơn điện tử", "Tạp chí Du lịch", "Cổng thông tin điện tử
# tỉnh X"; the name after the word is capitalised ("Báo động", "Báo cáo" start headlines).
_VN_OUTLET_RE = re.compile(r"^(?:báo|tạp chí|cổng thông tin(?: điện tử)?|"
                           r"đài phát thanh(?: và truyền hình)?)\s+(?:điện tử\s+)?"
                           r"(?:tỉnh\s+|thành phố\s+|huyện\s+)?(\w)", re.IGNORECASE)


def _is_vn_outlet(part: str) -> bool:
    m = _VN_OUTLET_RE.match(part.strip())
    return m is not None and m.group(1).isupper() and len(part.split()) <= 9


def _is_site_part(part: str, sites: list[str], host: str, labels: tuple[str, ...] = ()) -> bool:
    p = _squash(part)
    if not p:
        return True
    if _is_vn_outlet(part):
        return True
    for s in sites:
        q = _squash(s)
        if q and (p == q or (len(p) >= 3 and (p in q or q in p))):
            return True
        # An acronym of the site name: "WFA" for "World Future Awards".
        if 2 <= len(p) <= 6 and len(s.split()) >= 2 and p == _initials(s):
            return True
    if any(len(lab) >= 4 and lab in p and len(part.split()) <= 4 for lab in labels):
        return True  # "Bridgestone Tires" on tires.bridgestone.com
    return bool(host) and len(p) >= 3 and (p in host or host.startswith(p))


def _hostname(url: str) -> str:
    """The URL's host name without "www.", lower-case; "" for a malformed URL."""
    return host_of(url).removeprefix("www.")


def _host_labels(url: str) -> tuple[str, tuple[str, ...]]:
    hostname = _hostname(url)
    labels = tuple(re.sub(r"[\W_]+", "", lab) for lab in hostname.split(".")[:-1])
    host = re.sub(r"[\W_]+", "", hostname.rsplit(".", 1)[0])
    return host, labels


def is_site_name(text: str, sites: list[str], url: str) -> bool:
    """True when ``text`` only names the site (a header h1 that holds the site's name)."""
    host, _labels = _host_labels(url)
    p = _squash(text)
    if not p:
        return False
    # The host name without its TLD ("example"), or whole ("example.org" squashed).
    whole = _squash(_hostname(url))
    return any(_squash(s) == p for s in sites if s) or (len(p) >= 4 and p in (host, whole))


def strip_site(title: str, sites: list[str], url: str) -> str:
    """``title`` without "| Site" / "Site - " parts (only parts that name the site)."""
    host, labels = _host_labels(url)
    parts = _SEPARATORS_RE.split(title)
    if len(parts) < 2:
        return title.strip()
    seps = _SEPARATORS_RE.findall(title)
    # Peel site-name parts from both ends.
    start, end = 0, len(parts)
    while end - start > 1 and _is_site_part(parts[end - 1], sites, host, labels):
        end -= 1
    while end - start > 1 and _is_site_part(parts[start], sites, host):
        start += 1
    if (start, end) == (0, len(parts)):
        return title.strip()
    out = parts[start]
    for i in range(start + 1, end):
        out += seps[i - 1] + parts[i]
    return out.strip()


_FULLWIDTH_RE = re.compile("[\uff01-\uff5e]")
_CJK_RE = re.compile("[\u3000-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "oe", "æ": "ae",
                           "œ": "oe", "å": "a"})


def _slug_words(text: str) -> list[str]:
    """Words as a URL slug spells them: lower case, umlauts transliterated, accents dropped."""
    text = text.lower().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.findall(r"[a-z0-9]+", text)


def _url_slug(url: str) -> list[str]:
    """The words of the URL's headline slug (the path segment with the most hyphenated
    words), or [] when the URL has none."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return []
    best: list[str] = []
    for seg in path.split("/"):
        seg = seg.rsplit(".", 1)[0] if seg.endswith((".html", ".htm", ".php")) else seg
        if seg.count("-") + seg.count("_") >= 3:
            words = _slug_words(seg.replace("_", "-"))
            while words and words[0].isdigit() and len(words[0]) > 4:
                words = words[1:]  # an article id before the slug ("522721.kenia-...")
            if len(words) > len(best):
                best = words
    return best


def _slug_prefix(slug: list[str], text: str) -> int:
    """How many words the slug and ``text`` share from their starts (a slug's last word may
    be cut short)."""
    words = _slug_words(text)
    n = 0
    for a, b in zip(slug, words, strict=False):
        if a != b and not (n == len(slug) - 1 and b.startswith(a)):
            break
        n += 1
    return n


def _slug_in(start: list[str], text: str) -> bool:
    words = _slug_words(text)
    n = len(start)
    return any(words[i:i + n] == start for i in range(len(words) - n + 1))


# Words a slug must share with a headline, from its start, to pick it among disagreeing titles.
_SLUG_AGREEMENT = 4


def choose(h1s: list[str], candidates: list[tuple[str, str]], doc_title: str | None,
           sites: list[str], url: str, *, news: bool = True,
           kicked: list[str] | None = None) -> tuple[str, str] | None:
    """The headline and its provenance (see :func:`_choose`).

    The URL's slug is written from the newsroom's own headline. When the title chosen from the
    h1 and the metadata holds none of the slug's first words in a row (a rewritten or social
    headline), a metadata title or h1 that the slug spells from its start replaces it.
    """
    chosen = _choose(h1s, candidates, doc_title, sites, url, news=news, kicked=kicked)
    if chosen is None:
        return None
    if _FULLWIDTH_RE.search(chosen[0]) and not _CJK_RE.search(chosen[0]):
        # "How Does It Work？" typed on a CJK keyboard: ASCII punctuation in a Latin headline.
        chosen = (_FULLWIDTH_RE.sub(lambda m: chr(ord(m.group()) - 0xFEE0), chosen[0]), chosen[1])
    letters = [c for c in chosen[0] if c.isalpha()]
    if len(letters) > 12 and all(c.isupper() for c in letters) and any(
            c.islower() for c in "".join(t for t, _ in candidates)):
        # A headline set in capitals: the metadata title that says the same in its own case.
        for t, src in candidates:
            t = strip_site(t, sites, url)
            if t and words_f1(t, chosen[0]) >= 0.8 and any(c.islower() for c in t):
                chosen = (t, f"{src}+case")
                break
    slug = _url_slug(url)
    start = slug[:_SLUG_AGREEMENT]
    if len(slug) >= _SLUG_AGREEMENT and _slug_prefix(slug, chosen[0]) < _SLUG_AGREEMENT:
        # "Kicker: Headline" where the slug spells the headline alone, and a metadata title
        # says it alone too: the kicker is the page's decoration.
        head, colon, tail = chosen[0].partition(": ")
        if colon and head and _slug_prefix(slug, tail) >= _SLUG_AGREEMENT:
            for t, src in candidates:
                if t and norm(strip_site(t, sites, url)) == norm(tail):
                    return strip_site(t, sites, url), f"{src}+slug"
    if len(slug) < _SLUG_AGREEMENT or any(
            _slug_in(start, t) for t in [chosen[0], *(h for h in h1s if chosen[0] in h)]):
        return chosen  # the slug spells it (or the h1 it was cut from, with its kicker)
    others = [(strip_site(_fix_mojibake(t), sites, url), src) for t, src in candidates if t]
    others += [(h, "h1") for h in h1s]
    scored = [(_slug_prefix(slug, t), t, src) for t, src in others]
    best = max(scored, default=None, key=lambda x: x[0])
    if best and best[0] >= _SLUG_AGREEMENT:
        return best[1], f"{best[2]}+slug"
    return chosen


def _choose(h1s: list[str], candidates: list[tuple[str, str]], doc_title: str | None,
            sites: list[str], url: str, *, news: bool = True,
            kicked: list[str] | None = None) -> tuple[str, str] | None:
    """The headline and its provenance.

    The h1 that matches a metadata title wins. When none matches, a news article's structured
    headline (``news``: JSON-LD NewsArticle, curated by the newsroom) comes before the h1; on
    other pages (blogs, guides, shops) the metadata titles are tuned for search and sharing and
    the visible h1 is the article's own headline.
    """
    h1s = [_fix_mojibake(h) for h in h1s]
    metas = [(_fix_mojibake(t), src) for t, src in candidates if t]
    if doc_title:
        metas.append((doc_title, "title"))
    cleaned = [(strip_site(t, sites, url), src) for t, src in metas]
    # A metadata "title" that is only the site's name ("example.org") is no headline.
    cleaned = [(t, src) for t, src in cleaned if t and not is_site_name(t, sites, url)]
    meta_norms = {norm(t) for t, _ in metas} | {norm(t) for t, _ in cleaned}
    # A header h1 that only holds the site's name is not the headline.
    if len(h1s) > 1 or cleaned:
        h1s = [h for h in h1s if not is_site_name(h, sites, url)] or h1s[:0]
    chosen: tuple[str, str] | None = None
    if news and h1s:
        # The newsroom's two structured titles, OpenGraph and the JSON-LD headline, agree and
        # hold the h1 behind a kicker ("Kicker: Headline" for an h1 "Headline"), or say the h1
        # shortened (its words, in its order, some left out): the title it curated twice is
        # its headline. A reworded metadata title (same story, other words) does not beat the
        # h1 that readers see.
        og = next((t for t, src in cleaned if src == "og:title"), None)
        ld = next((t for t, src in cleaned if src == "json-ld"), None)
        if (og and ld and _squash(og) == _squash(ld) and len(og) >= 10
                and not any(norm(h) in (norm(og), norm(ld)) for h in h1s)
                and any(len(norm(h)) >= 10 and (norm(h) in norm(og) or _shortened(og, h))
                        for h in h1s)
                and not is_site_name(og, sites, url)
                and max(words_f1(og, h) for h in h1s) >= 0.2):  # not a tagline
            return og, "og:title+json-ld"
    if kicked and h1s:
        # The kicker above the h1 belongs to the headline when a metadata title says both,
        # joined by a colon ("Vierschanzentournee | Headline" is a section, not a kicker).
        for k in kicked:
            if norm(k) in meta_norms:
                return next(t for t, _ in [*metas, *cleaned] if norm(t) == norm(k)), "kicker+h1"
    for h in h1s:
        # The h1 without its kicker element, where a metadata title prints the same headline
        # behind another kicker ("Kicker A - Headline" in the page, "Kicker B: Headline" in
        # OpenGraph): the kicker changes from place to place, the headline is what stays.
        nh = norm(h)
        fulls = {_squash(o) for o in h1s if o != h and h in o}
        if fulls and len(nh) >= 10 and any(
                m.endswith(nh) and _squash(m) not in fulls
                and _KICKER_SEP_RE.search(m[:-len(nh)]) for m in meta_norms):
            return h, "h1-kicker"
    for h in h1s:
        nh = norm(h)
        if nh and nh in meta_norms:
            chosen = (h, "h1")
            break
    if chosen is None:
        # The h1 with its parts in separate elements ("Kicker" "Headline", no colon): the
        # metadata title that says the same words, with its punctuation.
        squashed = {_squash(t): t for t, _ in [*cleaned, *metas]}
        for h in h1s:
            sq = _squash(h)
            if len(sq) >= 10 and sq in squashed and _adds_separators(h, squashed[sq]):
                chosen = (squashed[sq], "h1+meta")
                break
    if chosen is None:
        for h in h1s:
            nh = norm(h)
            # Not a kicker-free variant (a part of another h1 text): that must match exactly.
            if any(o != h and h in o for o in h1s):
                continue
            if len(nh) >= 10 and any(nh in m for m in meta_norms):
                chosen = (h, "h1")
                break
    if chosen is None:
        if not news and cleaned:
            # The h1 closest to the metadata title (its own wording of the same headline).
            whole = [h for h in h1s if len(h) >= 10 and not any(o != h and h in o for o in h1s)]
            scored = sorted(((words_f1(h, cleaned[0][0]), -i, h) for i, h in enumerate(whole)),
                            reverse=True)
            if scored and scored[0][0] >= _H1_AGREEMENT:
                return scored[0][2], "h1-only"
        if news and cleaned and h1s:
            # A headline-length h1 that shares almost no word with any metadata title: those
            # describe something else (a teaser, a search rewrite, the site's tagline); the
            # visible h1 is the article's headline.
            whole = [h for h in h1s
                     if len(h.split()) >= 4 and not any(o != h and h in o for o in h1s)]
            if whole and max(words_f1(whole[0], t) for t, _ in cleaned) < 0.2:
                return whole[0], "h1-unrelated-meta"
        if cleaned:
            # "Headline-Section|Site" glued without spaces: a shorter candidate that is its start.
            first = cleaned[0][0]
            for t, src in cleaned[1:]:
                rest = first[len(t):] if len(t) >= 10 and first.startswith(t) else ""
                if rest and rest.lstrip()[:1] in "-|:–—/ㅣ":
                    return t, src
            # A headline cut short (JSON-LD headlines are cut near 110 characters for search
            # engines): another metadata title that says it in full.
            stem = first.rstrip(" .…")
            if len(stem) >= 90:
                for t, src in cleaned[1:]:
                    rest = t[len(stem):] if t.startswith(stem) else ""
                    if (len(rest) > 3 and rest[0] == " "
                            and rest.lstrip()[:1] not in "-|:–—/·•»"):
                        return t, src
            return cleaned[0]
        return (h1s[0], "h1") if h1s else None
    return chosen

"""Dates and times: machine formats (ISO 8601, RFC 2822) and visible, day-first Vietnamese ones.

Every result is timezone-aware: a time without an offset is in the source's timezone (issue 3), and
a day without a time is midnight there. ``published`` and ``updated`` are kept apart by the
callers; here :func:`find_visible` only says which kind a visible stamp announces ("Cập nhật" is an
update).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ISO_RE = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
# Compact ISO basic form used by a few CMSs: 20240503T154742+0200 or 20240503.
_ISO_BASIC_RE = re.compile(
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:T(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?"
    r"(?P<tz>Z|[+-]\d{4})?$")

# Plausible publication years: older or far-future years are page noise (copyright, ids).
_MIN_YEAR, _MAX_YEAR = 1995, 2100


@lru_cache(maxsize=64)
def zone(name: str | None) -> timezone | ZoneInfo:
    """The tzinfo for an IANA name; UTC when the name is unknown or empty."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _offset(text: str | None) -> timezone | None:
    if not text:
        return None
    t = text.upper()
    if t in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if t[0] == "-" else 1
    digits = t[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _build(y: int, m: int, d: int, hh: int, mm: int, ss: int,
           tz: timezone | ZoneInfo) -> datetime | None:
    if not _MIN_YEAR <= y <= _MAX_YEAR:
        return None
    try:
        return datetime(y, m, d, hh, mm, ss, tzinfo=tz)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Stamp:
    """A parsed time; ``has_time`` is False for a bare day (midnight in the source zone)."""

    when: datetime
    has_time: bool


def parse_machine(value: str | None, tz_name: str | None, *,
                  month_first: bool = False) -> Stamp | None:
    """Parse a machine-readable date (ISO 8601, RFC 2822, ISO basic); naive -> ``tz_name``.

    ``month_first``: the page is American English, where "03-09-2026" is March 9.
    """
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    m = _ISO_RE.search(text[:64])
    if m is None:
        m = _ISO_BASIC_RE.match(text)
    if m is not None:
        off = _offset(m.group("tz")) if m.group("H") else None
        tz = off or zone(tz_name)
        has_time = m.group("H") is not None
        when = _build(int(m.group("y")), int(m.group("m")), int(m.group("d")),
                      int(m.group("H") or 0), int(m.group("M") or 0), int(m.group("S") or 0), tz)
        return Stamp(when, has_time) if when else None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return parse_visible(text, tz_name, month_first=month_first)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz_name))
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    return Stamp(parsed, True)


# --- visible, day-first formats ----------------------------------------------------------------
# "22/12/2020", "22-12-2020", "22.12.2020": always day first (Vietnamese and most of the world).
_DMY = r"(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>\d{4})"
_HM = (r"(?P<H>\d{1,2})\s*[:hH]\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?"
       r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?")
_GMT = r"(?:\s*\(?\s*(?:GMT|UTC)\s*(?P<tz>[+-]\s*\d{1,2}(?::?\d{2})?)?\s*\)?)?"
# Date then time: "22/12/2020, 17:05 (GMT+7)", "22/12/2020 - 17:05", "12/6/2024 | 06:45".
_DATE_TIME_RE = re.compile(_DMY + r"(?:\s*(?:[,|\-–—]|lúc|at|um|à)?\s*" + _HM + r")?" + _GMT,
                           re.IGNORECASE)
# Time then date: "17:05 22/12/2020", "09:15 ngày 05/05/2024".
_TIME_DATE_RE = re.compile(_HM + r"\s*(?:[,|\-–—]|ngày)?\s*(?:[^\W\d_]+\s*,\s*)?" + _DMY + _GMT,
                           re.IGNORECASE)


def _month_map(names: str) -> dict[str, int]:
    return {m: i + 1 for i, m in enumerate(names.split())}


_MONTHS = {
    **_month_map("january february march april may june july august september october november "
                 "december"),
    **_month_map("jan feb mar apr may jun jul aug sep oct nov dec"),
    "sept": 9,
    **_month_map("januar februar märz april mai juni juli august september oktober november "
                 "dezember"),
    **_month_map("janvier février mars avril mai juin juillet août septembre octobre novembre "
                 "décembre"),
    **_month_map("enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
                 "diciembre"),
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "May 3, 2024", "3 May 2024", "3. Mai 2024", "3 de mayo de 2024", "tháng 5 năm 2024".
_MDY_RE = re.compile(r"\b(?P<mon>" + _MONTH_NAMES + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+"
                     r"(?P<y>\d{4})(?:\s*(?:,|at|-|–|\|)?\s*" + _HM + r")?", re.IGNORECASE)
_DMY_NAME_RE = re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:de\s+)?(?P<mon>" + _MONTH_NAMES
                          + r")\.?,?\s+(?:de\s+)?(?P<y>\d{4})(?:\s*(?:,|at|um|à|-|–|\|)?\s*"
                          + _HM + r")?", re.IGNORECASE)
# Vietnamese words: "22 tháng 12 năm 2020", "Ngày 22 tháng 12, 2020 17:05"; and the ISO order
# some pages print ("2020-12-22 17:05"). The order is explicit in both: no day/month guess.
_VN_WORDS_RE = re.compile(r"\b(?P<xd>\d{1,2})\s+tháng\s+(?P<xm>\d{1,2})\s*(?:,|năm)?\s*"
                          r"(?P<y>\d{4})(?:\s*(?:,|lúc|-|–|\|)?\s*" + _HM + r")?" + _GMT,
                          re.IGNORECASE)
_YMD_RE = re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<xm>[01]\d)-(?P<xd>[0-3]\d)"
                     r"(?:[ T]" + _HM + r")?(?!\d)" + _GMT)
_UPDATE_RE = re.compile(r"cập nhật|updated?|aktualisiert|mis à jour|actualizado|modified|"
                        r"sửa đổi", re.IGNORECASE)


def _visible_tz(match: re.Match[str], tz_name: str | None) -> timezone | ZoneInfo:
    raw = match.groupdict().get("tz")
    if raw:
        raw = raw.replace(" ", "")
        sign = raw[0]
        body = raw[1:]
        if ":" in body:
            h, _, mnt = body.partition(":")
        elif len(body) > 2:
            h, mnt = body[:-2], body[-2:]
        else:
            h, mnt = body, "0"
        off = _offset(f"{sign}{int(h):02d}{int(mnt):02d}")
        if off:
            return off
    return zone(tz_name)


def _hour(match: re.Match[str]) -> tuple[int, int, int] | None:
    if match.groupdict().get("H") is None:
        return None
    hh, mm = int(match.group("H")), int(match.group("M"))
    ss = int(match.group("S") or 0)
    ampm = (match.group("ampm") or "").lower().replace(".", "")
    if ampm == "pm" and hh < 12:
        hh += 12
    elif ampm == "am" and hh == 12:
        hh = 0
    if hh > 23 or mm > 59 or ss > 59:
        return None
    return hh, mm, ss


def is_month_first(*tags: str | None) -> bool:
    """True when a language tag of the page says American English ("en-US", "en_US"), where
    all-numeric dates are written month first."""
    return any(t and t.replace("_", "-").strip().lower() == "en-us" for t in tags)


_SLASHED_RE = re.compile(r"\b(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*\d{4}\b")


def writes_month_first(texts: list[str]) -> bool:
    """True when the page's own slashed dates show month-first order: one reads "12/17/2025"
    (no 17th month) and none reads "17/12/2025". Decides the ambiguous "03/01/2017" beside it."""
    month_first = day_first = False
    for text in texts:
        for a, b in _SLASHED_RE.findall(text):
            first, second = int(a), int(b)
            month_first |= first <= 12 < second <= 31
            day_first |= second <= 12 < first <= 31
    return month_first and not day_first


def _numeric_day_month(m: re.Match[str], month_first: bool) -> tuple[int, int]:
    """(day, month) of an all-numeric date: day first, unless the second number cannot be a
    month ("12/18/2024") or the page is American and the date is not written with dots."""
    first, second = int(m.group("d")), int(m.group("m"))
    if second > 12 >= first:
        return second, first
    if month_first and first <= 12 and "." not in m.group(0):
        return second, first
    return first, second


def parse_visible(text: str, tz_name: str | None, *, month_first: bool = False) -> Stamp | None:
    """The first date (with its time when given) in a visible text, day first (see
    :func:`_numeric_day_month` for month-first numbers)."""
    best: tuple[int, Stamp] | None = None
    for regex in (_DATE_TIME_RE, _TIME_DATE_RE, _MDY_RE, _DMY_NAME_RE, _VN_WORDS_RE, _YMD_RE):
        for m in regex.finditer(text):
            groups = m.groupdict()
            mon = groups.get("mon")
            if mon:
                month, day = _MONTHS.get(mon.lower().rstrip(".")), int(m.group("d"))
            elif groups.get("xm"):
                month, day = int(m.group("xm")), int(m.group("xd"))
            else:
                day, month = _numeric_day_month(m, month_first)
            if not month:
                continue
            hms = _hour(m)
            when = _build(int(m.group("y")), month, day,
                          *(hms or (0, 0, 0)), _visible_tz(m, tz_name))
            if when is None:
                continue
            stamp = Stamp(when, hms is not None)
            # The earliest match in the text wins; with a time beats without at the same place.
            key = m.start() - (1 if hms else 0)
            if best is None or key < best[0]:
                best = (key, stamp)
            break
    return best[1] if best else None


_PUBLISHED_LABEL_RE = re.compile(r"publish|posted|veröffentlicht|publié|publicado|đăng",
                                 re.IGNORECASE)


def in_update_label(el: Any) -> bool:
    """True when a ``<time>`` element sits in an "Updated ..." label (its parent's text)."""
    parent = el.getparent()
    if parent is None:
        return False
    before = (parent.text or "")
    prev = el.getprevious()
    if prev is not None:
        before += " " + "".join(prev.itertext()) + (prev.tail or "")
    before = before[-60:] + " " + "".join(el.itertext())[:30]
    return bool(_UPDATE_RE.search(before)) and not _PUBLISHED_LABEL_RE.search(before)


def is_published_label(text: str) -> bool:
    """True when a visible text announces the publication ("Published ...", "Posted on ...")."""
    return bool(_PUBLISHED_LABEL_RE.search(text))


def is_update_label(text: str) -> bool:
    """True when a visible stamp announces an update ("Cập nhật lúc ...", "Updated ...")."""
    return bool(_UPDATE_RE.search(text))


_DAY_MONTH_RE = re.compile(r"\b[Nn]gày\s+(\d{1,2})\s*/\s*(\d{1,2})\b(?!\s*/)")


def dateline_day(text: str) -> tuple[int, int] | None:
    """The (day, month) of a Vietnamese dateline "Ngày 22/12," (no year: used only to confirm)."""
    m = _DAY_MONTH_RE.search(text[:200])
    if m is None:
        return None
    day, month = int(m.group(1)), int(m.group(2))
    return (day, month) if 1 <= day <= 31 and 1 <= month <= 12 else None


# A publication day in the article's URL path: /2024/05/03/, /2024-05-03-, /2024/05/ (month only).
_URL_DATE_RE = re.compile(r"/((?:19|20)\d\d)[/-](0?[1-9]|1[0-2])(?:[/-](0?[1-9]|[12]\d|3[01]))?"
                          r"(?=[/_.-]|$)")


def url_date(url: str) -> tuple[int, int, int | None] | None:
    """(year, month, day or None) from an article URL's path, when it carries one."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    path = path.split("://", 1)[-1]
    path = path[path.find("/"):] if "/" in path else ""
    m = _URL_DATE_RE.search(path)
    if m is None:
        return None
    y, mo = int(m.group(1)), int(m.group(2))
    d = int(m.group(3)) if m.group(3) else None
    if not _MIN_YEAR <= y <= _MAX_YEAR:
        return None
    if d is not None and _build(y, mo, d, 0, 0, 0, UTC) is None:
        d = None
    return y, mo, d


def agrees(stamp: Stamp, ymd: tuple[int, int, int | None]) -> bool:
    """True when a stamp falls in the URL's month (and on its day, when the URL has one)."""
    w = stamp.when
    return (w.year, w.month) == ymd[:2] and (ymd[2] is None or w.day == ymd[2])

"""Dates as the contract writes them: YYYY-MM-DD for a day, YYYY-MM-DDTHH:MM:SS+HH:MM for a moment.

Every time the site shows ("12/03/2018 à 10h45", a `<time datetime>` without a zone) is Paris time, so it gets
Paris's offset on that day: +01:00 in winter, +02:00 in summer time (zoneinfo's Europe/Paris; the zone database
is the system's, else the `tzdata` package). A time that carries its own offset (JSON-LD, OpenGraph) keeps it;
a date without a time stays a date. Each moment is then one instant that pandas, SQLite or a spreadsheet can
compare, where naive local times mixed with offsets were one or two hours wrong once read as UTC.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

SITE_TIME_ZONE = ZoneInfo("Europe/Paris")

_DIGIT = re.compile(r"\d")  # any decimal digit, as the date patterns' \d
_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\s*(?:à|a|-)?\s*(\d{1,2})\s*h\s*:?\s*(\d{2}))?")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
FRENCH_MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "decembre": 12,
}
_LONG_FRENCH = re.compile(r"(\d{1,2})(?:er)?\s+(" + "|".join(FRENCH_MONTHS) + r")\s+(\d{4})"
                          r"(?:\s*(?:à|a|-)?\s*(\d{1,2})\s*h\s*:?\s*(\d{2}))?", re.IGNORECASE)


def from_french(text: str | None) -> str | None:
    """'27/07/2016' -> '2016-07-27'; '12/03/2018 à 10h45' or '13/03/2018 09h:12' -> '…T10:45:00+01:00';
    '1er avril 2019' -> '2019-04-01'; '12 juin 2018 à 10h45' -> '2018-06-12T10:45:00+02:00'."""
    if not text or _DIGIT.search(text) is None:  # every date it reads has digits: most lines are answered here
        return None
    match = _FRENCH_DATE.search(text)
    if match:
        day, month, year, hour, minute = match.groups()
        return _compose(int(year), int(month), int(day), hour, minute)
    match = _LONG_FRENCH.search(text)
    if match:
        day, month_name, year, hour, minute = match.groups()
        return _compose(int(year), FRENCH_MONTHS[month_name.lower()], int(day), hour, minute)
    return None


def _compose(year: int, month: int, day: int, hour: str | None, minute: str | None) -> str | None:
    try:
        if hour is None:
            return datetime(year, month, day).date().isoformat()
        return _in_paris(datetime(year, month, day, int(hour), int(minute or 0)))
    except ValueError:
        return None


def _in_paris(moment: datetime) -> str:
    """A wall-clock time of the site, with Paris's offset that day (the earlier of an hour shown twice)."""
    return moment.replace(tzinfo=SITE_TIME_ZONE).isoformat()


def from_iso(text: str | None) -> str | None:
    """An ISO 8601 date from structured data or markup, kept with its offset ('Z' becomes '+00:00'); a time
    without an offset is the site's, Paris time."""
    if not text:
        return None
    match = _ISO.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    if hour is None:
        return _compose(int(year), int(month), int(day), None, None)
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return None
    if not offset:
        return _in_paris(moment)
    return moment.isoformat() + _offset(offset)


def _offset(offset: str) -> str:
    if offset == "Z":
        return "+00:00"
    if ":" not in offset:
        return f"{offset[:3]}:{offset[3:]}"
    return offset

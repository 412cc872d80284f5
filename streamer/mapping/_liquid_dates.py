"""liquidjs's ``date`` filter: parse an ISO 8601 text or epoch seconds, format with strftime.

Dates are read and printed in UTC (Segment's servers run in UTC; liquidjs uses the process's
time zone). Unparsable values are returned unchanged, as liquidjs does. The strftime flags
``-`` (no padding), ``_`` (space), ``0``, ``^`` (upper case), ``#`` and a width are supported.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ._js import UNDEFINED
from ._liquid_values import liquid_string, plain

__all__ = ["date_filter"]


_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?"
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _parse_date(value: Any) -> dt.datetime | None:
    value = plain(value)
    if value is None or value is UNDEFINED:
        return None
    if value in ("now", "today"):
        return dt.datetime.now(dt.UTC)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(float(value), dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    match = _ISO.fullmatch(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")[:6]),
            tzinfo=dt.UTC,
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def _strftime_field(moment: dt.datetime, code: str) -> tuple[str, int, str]:
    """(text, default width, default pad) of one liquidjs strftime conversion."""
    hour12 = moment.hour % 12 or 12
    table: dict[str, tuple[Any, int, str]] = {
        "a": (_DAYS[moment.weekday()][:3], 0, ""),
        "A": (_DAYS[moment.weekday()], 0, ""),
        "b": (_MONTHS[moment.month - 1][:3], 0, ""),
        "h": (_MONTHS[moment.month - 1][:3], 0, ""),
        "B": (_MONTHS[moment.month - 1], 0, ""),
        "d": (moment.day, 2, "0"),
        "e": (moment.day, 2, " "),
        "H": (moment.hour, 2, "0"),
        "I": (hour12, 2, "0"),
        "j": (moment.timetuple().tm_yday, 3, "0"),
        "k": (moment.hour, 2, " "),
        "l": (hour12, 2, " "),
        "L": (moment.microsecond // 1000, 3, "0"),
        "m": (moment.month, 2, "0"),
        "M": (moment.minute, 2, "0"),
        "p": ("AM" if moment.hour < 12 else "PM", 0, ""),
        "P": ("am" if moment.hour < 12 else "pm", 0, ""),
        "S": (moment.second, 2, "0"),
        "s": (int(moment.timestamp()), 0, ""),
        "u": (moment.isoweekday(), 0, ""),
        "w": (moment.isoweekday() % 7, 0, ""),
        "y": (moment.year % 100, 2, "0"),
        "Y": (moment.year, 0, ""),
        "z": ("+0000", 0, ""),
        "Z": ("UTC", 0, ""),
        "%": ("%", 0, ""),
        "F": (moment.strftime("%Y-%m-%d"), 0, ""),
        "T": (moment.strftime("%H:%M:%S"), 0, ""),
        "D": (moment.strftime("%m/%d/%y"), 0, ""),
        "R": (moment.strftime("%H:%M"), 0, ""),
    }
    text, width, pad = table[code]
    return str(text), width, pad


def _strftime(moment: dt.datetime, pattern: str) -> str:
    def convert(match: re.Match[str]) -> str:
        flags, width, code = match.groups()
        try:
            text, default_width, pad = _strftime_field(moment, code)
        except KeyError:
            return match.group()
        if code == "z" and ":" in flags:
            return "+00:00"
        if "-" in flags:
            return text
        if "_" in flags:
            pad = " "
        elif "0" in flags:
            pad = "0"
        size = int(width) if width else default_width
        text = text.rjust(size, pad or " ") if size else text
        if "^" in flags:
            text = text.upper()
        elif "#" in flags:
            text = text.swapcase()
        return text

    return re.sub(r"%([-_0^#:]*)(\d*)([a-zA-Z%])", convert, pattern)


def date_filter(value: Any, pattern: Any = UNDEFINED, _timezone: Any = UNDEFINED) -> Any:
    moment = _parse_date(value)
    if moment is None:
        return plain(value)
    pattern = plain(pattern)
    text = (
        "%A, %B %-e, %Y at %-l:%M %P %z" if pattern in (None, UNDEFINED) else liquid_string(pattern)
    )
    return _strftime(moment, text)

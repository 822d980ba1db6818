"""The content calendar as an iCalendar file (RFC 5545): one all-day VEVENT per calendar entry with its date,
platform, title and text; a COMMENT says who wrote it (provider and model).

UIDs are derived from the deliverable's id and the entry's date and platform (and its rank among entries of
the same day and platform), not from its text or position: amending a post's copy or adding entries elsewhere
keeps every other UID, so re-importing the file updates the events instead of duplicating them. SEQUENCE is
the deliverable's version, which calendar clients use to tell the newer copy of an event.

The text is written here, not with the `icalendar` library: its per-property type inference and generic
serialiser took a second of CPU for the calendar of a 500-deliverable run (issue 16), about as long as every
other file of the ZIP together. What it wrote is small and fixed: TEXT values escaped (\\ ; , and newlines,
§3.3.11; other control characters, which TEXT may not hold, dropped), DATE and UTC DATE-TIME values, lines
folded at 75 octets on UTF-8 character boundaries (§3.1) and CRLF line ends. deliverables/tests/
test_ics_render.py parses the output back with icalendar and compares every property."""

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from .export_pack import PackDeliverable, platform_label

PRODID = "-//AICMO//Content calendar//EN"
LINE_OCTETS = 75  # RFC 5545 §3.1: a content line longer than this is folded
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # TEXT allows HTAB; CR and LF are escaped before this
_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})


def entry_uid(deliverable_id: str, entry: dict, rank: int) -> str:
    return f"{deliverable_id}-{entry['date']}-{entry.get('platform') or 'any'}-{rank}@aicmo"


def text(value) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks escaped."""
    value = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value).translate(_ESCAPES)


def fold(line: str) -> str:
    """One content line with its CRLF, folded into lines of at most 75 octets (a fold is CRLF and a space)
    without splitting a UTF-8 character."""
    data = line.encode()
    if len(data) <= LINE_OCTETS:
        return line + "\r\n"
    pieces, start, limit = [], 0, LINE_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: the character starts further back
            end -= 1
        pieces.append(data[start:end].decode())
        start, limit = end, LINE_OCTETS - 1  # the leading space of a continuation line is one octet
    pieces.append(data[start:].decode())
    return "\r\n ".join(pieces) + "\r\n"


def _date(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"  # strftime's %Y does not pad years before 1000


def render_ics(*, name: str, items: list[PackDeliverable], stamp: datetime) -> bytes:
    dtstamp = stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{text(PRODID)}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{text(name)}",
    ]
    for item in items:
        if not item.entries:
            continue
        seen: Counter = Counter()
        comment = f"COMMENT:{text(f'Written by {item.written_by}')}"  # provenance, kept out of the copy
        sequence = f"SEQUENCE:{int(item.version)}"
        status = "STATUS:CONFIRMED" if item.status == "approved" else "STATUS:TENTATIVE"
        for entry in item.entries:
            key = (entry["date"], entry.get("platform"))
            seen[key] += 1
            day = date.fromisoformat(entry["date"])
            label = platform_label(entry.get("platform"))
            title = str(entry.get("title", ""))
            lines += [
                "BEGIN:VEVENT",
                f"UID:{text(entry_uid(item.id, entry, seen[key]))}",
                f"DTSTAMP:{dtstamp}",
                f"DTSTART;VALUE=DATE:{_date(day)}",
                f"DTEND;VALUE=DATE:{_date(day + timedelta(days=1))}",
                f"SUMMARY:{text(f'[{label}] {title}' if label else title)}",
                f"DESCRIPTION:{text(entry.get('text', ''))}",  # the post's copy, as it is to be published
                comment,
            ]
            if label:
                lines.append(f"CATEGORIES:{text(label)}")
            lines += [sequence, status, "TRANSP:TRANSPARENT", "END:VEVENT"]  # a planned post makes no one busy
    lines.append("END:VCALENDAR")
    return "".join(map(fold, lines)).encode()

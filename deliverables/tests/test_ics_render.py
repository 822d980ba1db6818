"""The hand-written iCalendar text (ics_render) read back with the icalendar library: every property of every
event as the library itself builds it, awkward text included (escapes, long lines, multi-byte characters)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from deliverables.services.export_pack import PackDeliverable, platform_label
from deliverables.services.ics_render import PRODID, entry_uid, fold, render_ics

STAMP = datetime(2026, 3, 1, 9, 30, 15, tzinfo=ZoneInfo("Europe/Paris"))
AWKWARD = "Café, ☕; tea\\coffee\nline two\r\nline three\rfour\ttab " + "é☕𝄞" * 40  # 1-4 byte characters


def _item(version: int = 2, status: str = "approved", entries=None) -> PackDeliverable:
    return PackDeliverable(
        id="6f1c0e9a-0000-4000-8000-000000000001",
        position=0,
        kind="content_calendar",
        kind_label="Content calendar",
        title="Calendar",
        platform=None,
        platform_label="",
        status=status,
        version=version,
        provider="offline",
        model="offline-templates-v1",
        written_by="offline · offline-templates-v1, edited by ann, o'neil; x",
        approved_by="",
        approved_at=None,
        markdown="",
        hashtags=[],
        structured={"entries": entries if entries is not None else []},
    )


def _lines(value: str) -> str:
    """icalendar would write a lone CR as it is, a line break inside a content line; ics_render writes \\n."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _reference(name: str, items: list[PackDeliverable]) -> icalendar.Calendar:
    """The calendar as icalendar builds it from the same facts (how ics_render wrote it before issue 16)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for item in items:
        seen: dict = {}
        for entry in item.entries:
            key = (entry["date"], entry.get("platform"))
            seen[key] = seen.get(key, 0) + 1
            day = date.fromisoformat(entry["date"])
            label = platform_label(entry.get("platform"))
            event = icalendar.Event()
            event.add("uid", entry_uid(item.id, entry, seen[key]))
            event.add("dtstamp", STAMP)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add(
                "summary", _lines(f"[{label}] {entry.get('title', '')}" if label else str(entry.get("title", "")))
            )
            event.add("description", _lines(str(entry.get("text", ""))))
            event.add("comment", f"Written by {item.written_by}")
            if label:
                event.add("categories", [label])
            event.add("sequence", item.version)
            event.add("status", "CONFIRMED" if item.status == "approved" else "TENTATIVE")
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    return calendar


def _properties(component) -> dict:
    """Every property, decoded to Python values (lists for CATEGORIES), by name."""
    values = {}
    for name in component:
        value = component.decoded(name) if name != "CATEGORIES" else component[name].cats
        values[name] = [str(v) for v in value] if name == "CATEGORIES" else value
    return values


def test_the_written_calendar_reads_back_as_icalendar_builds_it():
    name = "Spring, launch; \\ — Acme ☕"
    items = [
        _item(
            entries=[
                {"date": "2026-03-02", "platform": "linkedin", "title": "Launch, day; one", "text": AWKWARD},
                {"date": "2026-03-02", "platform": "linkedin", "title": "Second the same day", "text": "b"},
                {"date": "2026-03-31", "platform": None, "title": "No platform", "text": ""},
                {"date": "2026-12-31", "platform": "instagram", "title": AWKWARD, "text": "x" * 300},
            ]
        ),
        _item(version=1, status="draft", entries=[{"date": "2026-04-01", "platform": "tiktok", "title": "T"}]),
        _item(entries=[]),
    ]

    written = render_ics(name=name, items=items, stamp=STAMP)
    parsed = icalendar.Calendar.from_ical(written)
    reference = icalendar.Calendar.from_ical(_reference(name, items).to_ical())

    assert _properties(parsed) == _properties(reference)
    events, expected = list(parsed.walk("VEVENT")), list(reference.walk("VEVENT"))
    assert len(events) == len(expected) == 5
    for event, want in zip(events, expected, strict=True):
        assert _properties(event) == _properties(want)
    first = _properties(events[0])
    assert str(events[0]["DESCRIPTION"]) == AWKWARD.replace("\r\n", "\n").replace("\r", "\n")
    assert first["DTSTAMP"] == STAMP.astimezone(UTC) and first["DTSTART"] == date(2026, 3, 2)
    assert first["CATEGORIES"] == ["LinkedIn"] and first["SEQUENCE"] == 2 and first["STATUS"] == b"CONFIRMED"
    assert "CATEGORIES" not in events[2] and _properties(events[4])["STATUS"] == b"TENTATIVE"


def test_lines_are_crlf_and_at_most_75_octets_folded_on_character_boundaries():
    items = [_item(entries=[{"date": "2026-03-02", "platform": "linkedin", "title": "t", "text": AWKWARD * 3}])]

    written = render_ics(name="n", items=items, stamp=STAMP)

    assert written.endswith(b"END:VCALENDAR\r\n")
    lines = written.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    assert sum(line.startswith(b" ") for line in lines) > 10
    for line in lines:
        line.decode()  # each physical line is whole UTF-8: no character was split by a fold


def test_fold_keeps_short_lines_and_joins_back_to_the_original():
    assert fold("SUMMARY:short") == "SUMMARY:short\r\n"
    exactly = "X:" + "a" * 73
    assert fold(exactly) == exactly + "\r\n"
    for line in ("X:" + "a" * 74, "X:" + "𝄞" * 60, "X:" + "a" + "é" * 80, "X:" + "☕" * 100):
        folded = fold(line)
        assert folded.replace("\r\n ", "").removesuffix("\r\n") == line
        assert all(len(physical.encode()) <= 75 for physical in folded.split("\r\n"))


def test_control_characters_text_may_not_hold_are_dropped():
    items = [_item(entries=[{"date": "2026-03-02", "platform": None, "title": "a\x00b\x1bc", "text": "x\x7fy\tz"}])]

    [event] = icalendar.Calendar.from_ical(render_ics(name="n", items=items, stamp=STAMP)).walk("VEVENT")

    assert str(event["SUMMARY"]) == "abc" and str(event["DESCRIPTION"]) == "xy\tz"

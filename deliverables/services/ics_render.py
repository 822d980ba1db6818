"""The content calendar as an iCalendar file (RFC 5545, written with the `icalendar` library): one all-day
VEVENT per calendar entry with its date, platform, title and text; a COMMENT says who wrote it
(provider and model).

UIDs are derived from the deliverable's id and the entry's date and platform (and its rank among entries of
the same day and platform), not from its text or position: amending a post's copy or adding entries elsewhere
keeps every other UID, so re-importing the file updates the events instead of duplicating them. SEQUENCE is
the deliverable's version, which calendar clients use to tell the newer copy of an event."""

from collections import Counter
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from .export_pack import PackDeliverable, platform_label

PRODID = "-//AICMO//Content calendar//EN"


def entry_uid(deliverable_id: str, entry: dict, rank: int) -> str:
    return f"{deliverable_id}-{entry['date']}-{entry.get('platform') or 'any'}-{rank}@aicmo"


def render_ics(*, name: str, items: list[PackDeliverable], stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for item in items:
        seen: Counter = Counter()
        for entry in item.entries:
            key = (entry["date"], entry.get("platform"))
            seen[key] += 1
            day = date.fromisoformat(entry["date"])
            label = platform_label(entry.get("platform"))
            event = Event()
            event.add("uid", entry_uid(item.id, entry, seen[key]))
            event.add("dtstamp", stamp)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", f"[{label}] {entry.get('title', '')}" if label else str(entry.get("title", "")))
            event.add("description", str(entry.get("text", "")))  # the post's copy, as it is to be published
            event.add("comment", f"Written by {item.written_by}")  # provenance, kept out of the copy
            if label:
                event.add("categories", [label])
            event.add("sequence", item.version)
            event.add("status", "CONFIRMED" if item.status == "approved" else "TENTATIVE")
            event.add("transp", "TRANSPARENT")  # a planned post does not make anyone busy
            calendar.add_component(event)
    return calendar.to_ical()

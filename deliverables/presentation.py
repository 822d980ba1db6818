"""Pure helpers that turn deliverables into what the pages show: platform post previews with their
character meter, the content calendar as month grids, and side-by-side diffs of two revisions."""

import calendar
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .platforms import PLATFORMS, Platform, platform_for_kind, post_length


@dataclass(frozen=True)
class CharMeter:
    length: int
    limit: int

    @property
    def over(self) -> int:
        return max(self.length - self.limit, 0)

    @property
    def left(self) -> int:
        return max(self.limit - self.length, 0)

    @property
    def low(self) -> int:  # <meter> turns amber from here…
        return int(self.limit * 0.8)

    @property
    def high(self) -> int:  # …and red from here
        return int(self.limit * 0.95)

    @property
    def state(self) -> str:
        return "over" if self.over else "near" if self.length >= self.low else "ok"


def char_meter(*, kind: str, content_markdown: str, hashtags: Sequence[str]) -> CharMeter | None:
    platform = platform_for_kind(kind)
    if platform is None:
        return None
    return CharMeter(length=post_length(content_markdown, hashtags), limit=platform.max_chars)


@dataclass(frozen=True)
class PostPreview:
    platform: Platform
    text: str
    hashtags: list[str]
    meter: CharMeter
    brand_name: str
    handle: str
    image_url: str | None

    @property
    def copy_text(self) -> str:
        """What a copy button puts on the clipboard: the post as it is pasted into the platform."""
        return f"{self.text}\n\n{' '.join(self.hashtags)}" if self.hashtags else self.text


def post_preview(
    *,
    kind: str,
    content_markdown: str,
    hashtags: Sequence[str],
    brand_name: str,
    brand_slug: str,
    image_url: str | None = None,
) -> PostPreview | None:
    platform = platform_for_kind(kind)
    if platform is None:
        return None
    return PostPreview(
        platform=platform,
        text=content_markdown or "",
        hashtags=list(hashtags or []),
        meter=CharMeter(length=post_length(content_markdown, hashtags), limit=platform.max_chars),
        brand_name=brand_name,
        handle=brand_slug.replace("-", "_"),
        image_url=image_url,
    )


# --- the content calendar -------------------------------------------------------------------------------------


@dataclass
class CalendarEntry:
    index: int
    day: date
    platform: str
    platform_label: str
    title: str
    text: str
    meter: CharMeter | None


@dataclass
class CalendarDay:
    day: date
    in_month: bool
    entries: list[CalendarEntry] = field(default_factory=list)


@dataclass
class CalendarMonth:
    year: int
    month: int
    weeks: list[list[CalendarDay]]

    @property
    def title(self) -> str:
        return date(self.year, self.month, 1).strftime("%B %Y")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def calendar_entries(raw: Any) -> list[CalendarEntry]:
    """Valid entries of `metadata.entries`, in date order; malformed ones are skipped, not fatal."""
    entries = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, Mapping):
            continue
        try:
            day = date.fromisoformat(str(item.get("date")))
        except ValueError:
            continue
        key = str(item.get("platform") or "")
        platform = PLATFORMS.get(key)
        text = str(item.get("text") or "")
        entries.append(
            CalendarEntry(
                index=0,
                day=day,
                platform=key,
                platform_label=platform.label if platform else key,
                title=str(item.get("title") or ""),
                text=text,
                meter=CharMeter(length=len(text), limit=platform.max_chars) if platform else None,
            )
        )
    entries.sort(key=lambda e: (e.day, e.platform))
    for i, entry in enumerate(entries):
        entry.index = i
    return entries


def calendar_months(entries: Sequence[CalendarEntry], *, max_months: int = 12) -> list[CalendarMonth]:
    """Month grids (weeks start on Monday) covering every month that has an entry."""
    if not entries:
        return []
    by_day: dict[date, list[CalendarEntry]] = {}
    for entry in entries:
        by_day.setdefault(entry.day, []).append(entry)
    months = sorted({(e.day.year, e.day.month) for e in entries})[:max_months]
    grid = calendar.Calendar(firstweekday=calendar.MONDAY)
    return [
        CalendarMonth(
            year=year,
            month=month,
            weeks=[
                [
                    CalendarDay(day=d, in_month=d.month == month, entries=by_day.get(d, []) if d.month == month else [])
                    for d in week
                ]
                for week in grid.monthdatescalendar(year, month)
            ],
        )
        for year, month in months
    ]


def calendar_platforms(entries: Sequence[CalendarEntry]) -> list[tuple[str, str]]:
    """(key, label) of the platforms the calendar uses, for its legend."""
    seen: dict[str, str] = {}
    for entry in entries:
        seen.setdefault(entry.platform, entry.platform_label)
    return sorted(seen.items(), key=lambda item: item[1])


# --- side-by-side diffs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool


@dataclass(frozen=True)
class DiffRow:
    tag: str  # equal | replace | delete | insert
    left_number: int | None
    left: list[Segment]
    right_number: int | None
    right: list[Segment]


def _word_segments(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """Within a changed line, mark the words that changed on each side."""
    a, b = old.split(" "), new.split(" ")
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append(Segment(" ".join(a[i1:i2]), tag != "equal"))
        if j2 > j1:
            right.append(Segment(" ".join(b[j1:j2]), tag != "equal"))
    return _spaced(left), _spaced(right)


def _spaced(segments: list[Segment]) -> list[Segment]:
    return [Segment(s.text + (" " if i < len(segments) - 1 else ""), s.changed) for i, s in enumerate(segments)]


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Line-by-line rows for a two-column diff (old left, new right), with changed words marked.
    The text stays plain: templates escape it."""
    a, b = (old or "").splitlines(), (new or "").splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [
                DiffRow("equal", i1 + k + 1, [Segment(a[i1 + k], False)], j1 + k + 1, [Segment(b[j1 + k], False)])
                for k in range(i2 - i1)
            ]
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            left = a[i1 + k] if i1 + k < i2 else None
            right = b[j1 + k] if j1 + k < j2 else None
            if left is not None and right is not None:
                left_segments, right_segments = _word_segments(left, right)
                rows.append(DiffRow("replace", i1 + k + 1, left_segments, j1 + k + 1, right_segments))
            elif left is not None:
                rows.append(DiffRow("delete", i1 + k + 1, [Segment(left, True)], None, []))
            else:
                rows.append(DiffRow("insert", None, [], j1 + k + 1, [Segment(right or "", True)]))
    return rows

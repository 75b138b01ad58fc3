"""Which instants are slots of a service: pure calendar arithmetic, no database.

A service is open in intervals of local wall-clock time per weekday (in its own timezone).
Within an interval, slots start at the opening time and every `duration_minutes` after it, as
long as the whole slot ends by closing time. Slots are stored and compared as UTC instants.

Daylight saving: a local start time that does not exist (the hour skipped in spring) is no
slot; one that occurs twice (the hour repeated in autumn) is a slot at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from everything_app.core.clock import zone_named

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60


def minutes_of(hhmm: str) -> int:
    """'09:30' -> 570; '24:00' is the end of the day."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _exists(local: datetime) -> bool:
    """False for a wall-clock time skipped by a daylight-saving jump."""
    round_trip = local.astimezone(UTC).astimezone(local.tzinfo)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


@dataclass(frozen=True)
class Schedule:
    zone: ZoneInfo
    duration: int  # minutes
    hours: dict[int, tuple[tuple[int, int], ...]]  # weekday (0 = Monday) -> (open, close)

    @classmethod
    def of(
        cls, opening_hours: dict[str, list[dict[str, str]]], duration: int, timezone: str
    ) -> Schedule:
        hours = {
            WEEKDAYS.index(day): tuple(
                (minutes_of(i["open"]), minutes_of(i["close"])) for i in intervals
            )
            for day, intervals in opening_hours.items()
        }
        return cls(zone=zone_named(timezone), duration=duration, hours=hours)

    def starts_on(self, day: date) -> list[datetime]:
        """The UTC start of every slot on one local day of the service, in order."""
        starts: list[datetime] = []
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        for opens, closes in self.hours.get(day.weekday(), ()):
            for minute in range(opens, closes - self.duration + 1, self.duration):
                local = midnight.replace(hour=minute // 60, minute=minute % 60)
                if _exists(local):
                    starts.append(local.astimezone(UTC))
        return starts

    def starts_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Slot starts in [start, end), for a range of a few days at most."""
        first = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        starts: list[datetime] = []
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            starts += [s for s in self.starts_on(day) if start <= s < end]
        return starts

    def offers(self, instant: datetime) -> bool:
        """Whether an aware instant is exactly the start of one of the service's slots."""
        return instant.astimezone(UTC) in self.starts_on(instant.astimezone(self.zone).date())

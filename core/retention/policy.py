"""A retention policy: which sets to keep, in the words and with the meaning of ``borg prune``.

- ``keep_within``: every set made within this long before now ("36H", "7d", "2w", "6m",
  "1y"; a month is 31 days, a year 365, as borg counts them).
- ``keep_last`` N: the N newest sets.
- ``keep_hourly`` / ``daily`` / ``weekly`` / ``monthly`` / ``yearly`` N: the newest set of
  each of the N newest hours (days, ISO weeks, months, years) that have a set, in the
  machine's time zone.

The rules are applied in that order, and a set kept by one rule does not count toward a
later one. When a rule cannot reach its number, it also keeps the oldest set, so the first
set ages into the longer rules (borg 1.2). -1 means no limit.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import timedelta

from ..invalid_value import InvalidValue

RULES = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
_INTERVAL = re.compile(r"([1-9][0-9]{0,5})([HdwmyS])")
_UNIT_SECONDS = {"S": 1, "H": 3600, "d": 86400, "w": 7 * 86400, "m": 31 * 86400, "y": 365 * 86400}


class RetentionError(InvalidValue):
    """A policy that cannot be used as given."""


def parse_interval(text: str) -> timedelta:
    match = _INTERVAL.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise RetentionError(f"{text!r} is not a duration: write a number and H (hours), d (days), w (weeks), "
                             "m (months of 31 days) or y (years of 365 days), e.g. 7d")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@dataclass(frozen=True)
class RetentionPolicy:
    keep_within: str | None = None
    keep_last: int | None = None
    keep_hourly: int | None = None
    keep_daily: int | None = None
    keep_weekly: int | None = None
    keep_monthly: int | None = None
    keep_yearly: int | None = None

    def __bool__(self) -> bool:
        return any(value is not None for value in asdict(self).values())

    def checked(self) -> RetentionPolicy:
        if self.keep_within is not None:
            parse_interval(self.keep_within)
        for rule in RULES:
            value = getattr(self, f"keep_{rule}")
            if value is not None and (type(value) is not int or value < -1 or value > 1_000_000):
                raise RetentionError(f"keep-{rule} must be a whole number, 0 or more (or -1 for no limit)")
        return self

    def overridden(self, other: RetentionPolicy) -> RetentionPolicy:
        """This policy with the rules ``other`` gives (a run's flags) put in their place."""
        if not other:
            return self
        return RetentionPolicy(**{**asdict(self), **{key: value for key, value in asdict(other).items()
                                                    if value is not None}})

    @property
    def within(self) -> timedelta | None:
        return parse_interval(self.keep_within) if self.keep_within else None

    def document(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_document(cls, document: object, where: str) -> RetentionPolicy:
        if not isinstance(document, dict) or not set(document) <= set(cls.__dataclass_fields__):
            raise RetentionError(f"the retention policy of {where} is damaged: set it again")
        try:
            return cls(**document).checked()
        except (TypeError, RetentionError) as error:
            raise RetentionError(f"the retention policy of {where} is damaged ({error}): set it again") from None

    def describe(self) -> str:
        parts = [f"within {self.keep_within}"] if self.keep_within else []
        parts += [f"{rule} {'all' if value == -1 else value}" for rule in RULES
                  if (value := getattr(self, f"keep_{rule}")) is not None]
        return "keep " + ", ".join(parts) if parts else "keep everything (no policy)"

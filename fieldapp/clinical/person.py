"""The facts about a person that entry checks and bands depend on: sex and exact age."""

from dataclasses import dataclass

# WHO Anthro counts a month as 30.4375 days and measures recumbent length below 731 days (24 months).
DAYS_PER_MONTH = 30.4375
LYING_BELOW_DAYS = 731


@dataclass(frozen=True)
class Person:
    """Sex ("M" or "F", None when unknown), age in days on the exam day, and how length was measured.

    under_24_months overrides the age for the length/height choice, for a child measured lying
    or standing against the rule; None means "decide from the age".
    """

    sex: str | None = None
    age_days: int | None = None
    under_24_months: bool | None = None

    @property
    def age_months(self) -> float | None:
        """Age in months of 30.4375 days, or None when the age is unknown."""
        if self.age_days is None:
            return None
        return self.age_days / DAYS_PER_MONTH

    @property
    def lying(self) -> bool:
        """True when length is measured lying down (under 24 months); False when unknown."""
        if self.under_24_months is not None:
            return self.under_24_months
        return self.age_days is not None and self.age_days < LYING_BELOW_DAYS


def in_ages(ages: dict | None, person: Person) -> bool | None:
    """Return whether the person's age is within {"from_months", "below_months"}; None when unknown."""
    if not ages:
        return True
    months = person.age_months
    if months is None:
        return None
    if "from_months" in ages and months < ages["from_months"]:
        return False
    return not ("below_months" in ages and months >= ages["below_months"])

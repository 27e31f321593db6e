"""One year of a ward as the central reports see it: people merged across sites, invitations and exams.

Everything here works on plain payload dicts, the sites' rows as they were synced (docs/sync.md), so
the reports are tested without a server. load() reads the dicts from the central store. Derived values
and bands are never synced: each exam is judged again with the site's own code, results_from_rows().
"""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain

from .. import results
from ..groups import parse_groups

# The observation columns the reports keep; the rest of a synced row is dropped at once to save memory.
OBSERVATION_FIELDS = ("id", "visit_id", "item", "reading", "value_num", "value_text", "unit", "confirmed",
                      "supersedes", "measured_at", "recorded_at")


@dataclass
class Exam:
    """One examined visit: the visit row, where it took place, its judged results and current conclusion."""

    visit: dict
    site: dict
    person: dict
    observations: list[dict]
    results: list[results.Result]
    conclusion: dict | None

    @property
    def day(self) -> str:
        return self.visit["day"]


@dataclass
class Person:
    """A central person: the people of several sites with the same ID number count once.

    payload is the row shown: the central person's own, else a member's. groups are the union of
    every member's groups. school is the name of the school site where the person was invited or
    examined this year, "" otherwise.
    """

    id: str
    payload: dict
    groups: set[int] = field(default_factory=set)
    school: str = ""
    invited: bool = False
    exams: list[Exam] = field(default_factory=list)

    @property
    def tdp(self) -> str:
        return (self.payload.get("tdp") or "").strip()

    @property
    def class_name(self) -> str:
        return (self.payload.get("class_name") or "").strip()

    @property
    def examined(self) -> bool:
        return bool(self.exams)

    @property
    def latest(self) -> Exam | None:
        return self.exams[-1] if self.exams else None


@dataclass
class Ward:
    """The people in the central store, with one year's invitations and exams (every year's for None)."""

    year: int | None
    people: list[Person]


def current_rows(rows: list[dict]) -> tuple[list[dict], set[tuple[str, int]]]:
    """Return the current versions of a visit's observation rows and the (item, reading) pairs corrected."""
    superseded = {row["supersedes"] for row in rows if row.get("supersedes")}
    current = [row for row in rows if row["id"] not in superseded]
    corrected = {(row["item"], row["reading"]) for row in rows if row.get("supersedes")}
    return current, corrected


def current_conclusion(rows: list[dict]) -> dict | None:
    """Return the last version of a visit's conclusion chain with findings and diagnoses decoded, or None."""
    superseded = {row["supersedes"] for row in rows if row.get("supersedes")}
    current = [row for row in rows if row["id"] not in superseded]
    if not current:
        return None
    # A site's unique index on supersedes keeps one chain, so there is one head; max() makes the choice
    # stable should a store ever contain two.
    row = max(current, key=lambda row: (row.get("recorded_at") or "", row["id"]))
    return {**row, "findings": _decoded(row.get("findings"), {}), "diagnoses": _decoded(row.get("diagnoses"), [])}


def _decoded(value, empty):
    if isinstance(value, str):
        return json.loads(value) if value.strip() else empty
    return value if value is not None else empty


def build_ward(year: int | None, *, people: Iterable[dict], rounds: Iterable[dict], sites: Iterable[dict],
               invitations: Iterable[dict], visits: Iterable[dict], observations: Iterable[dict],
               conclusions: Iterable[dict], central_of: Mapping[str, str]) -> Ward:
    """Build a year of the ward from payload dicts of each kind.

    central_of maps a site's person id to its central person id (people.central_people); a person
    missing from it is its own central person. Invitations count when active and in a round that
    starts in the year. Exams are visits of the year with at least one observation or a conclusion.
    """
    # A site sends {"id": ..., "removed": true} for a person its roster no longer has (outbox.record_removals).
    payloads = {payload["id"]: payload for payload in people if not payload.get("removed")}
    ward_people = _merge_people(payloads, central_of)
    sites_by_id = {site["id"]: site for site in sites}
    year_rounds = {row["id"] for row in rounds if str(row.get("start_date") or "").startswith(_prefix(year))}

    for invitation in invitations:
        if invitation.get("status") != "active" or invitation.get("round_id") not in year_rounds:
            continue
        person = ward_people.get(central_of.get(invitation["person_id"], invitation["person_id"]))
        if person is None:
            continue
        person.invited = True
        site = sites_by_id.get(invitation.get("site_id") or "", {})
        if site.get("kind") == "school":
            person.school = site["name"]

    def subject(person_id: str) -> dict:
        merged = ward_people.get(central_of.get(person_id, person_id))
        return merged.payload if merged is not None else payloads.get(person_id, {})

    for exam in _exams(year, visits, observations, conclusions, subject, sites_by_id):
        person = ward_people.get(central_of.get(exam.visit["person_id"], exam.visit["person_id"]))
        if person is None:
            continue
        person.exams.append(exam)
        if not person.school and exam.site.get("kind") == "school":
            person.school = exam.site["name"]
    for person in ward_people.values():
        person.exams.sort(key=lambda exam: (exam.day, exam.visit.get("checked_in_at") or ""))
    return Ward(year, sorted(ward_people.values(), key=lambda person: (person.payload.get("sort_key") or "",
                                                                       person.id)))


def _merge_people(payloads: dict[str, dict], central_of: Mapping[str, str]) -> dict[str, Person]:
    members: dict[str, list[dict]] = defaultdict(list)
    for person_id, payload in payloads.items():
        members[central_of.get(person_id, person_id)].append(payload)

    merged = {}
    for central_id, rows in members.items():
        own = payloads.get(central_id) or rows[0]
        shown = dict(own)
        # A field the shown row leaves empty is taken from another site's row of the same person.
        for row in rows:
            for key, value in row.items():
                if value not in (None, "") and shown.get(key) in (None, ""):
                    shown[key] = value
        groups = set().union(*(parse_groups(row.get("groups")) for row in rows))
        merged[central_id] = Person(central_id, shown, groups)
    return merged


def _prefix(year: int | None) -> str:
    return f"{year:04d}-" if year is not None else ""


def _exams(year: int | None, visits: Iterable[dict], observations: Iterable[dict], conclusions: Iterable[dict],
           subject: Callable[[str], dict], sites_by_id: dict[str, dict]) -> list[Exam]:
    year_visits = {visit["id"]: visit for visit in visits if str(visit.get("day") or "").startswith(_prefix(year))}
    observed: dict[str, list[tuple]] = defaultdict(list)
    for row in observations:
        if row.get("visit_id") in year_visits:
            observed[row["visit_id"]].append(tuple(row.get(name) for name in OBSERVATION_FIELDS))
    concluded: dict[str, list[dict]] = defaultdict(list)
    for row in conclusions:
        if row.get("visit_id") in year_visits:
            concluded[row["visit_id"]].append(row)

    exams = []
    for visit_id, visit in year_visits.items():
        rows, corrected = current_rows([dict(zip(OBSERVATION_FIELDS, row)) for row in observed.pop(visit_id, [])])
        conclusion = current_conclusion(concluded.pop(visit_id, []))
        if not rows and conclusion is None:
            continue
        person = subject(visit["person_id"])
        found = results.results_from_rows(person, visit, rows, corrected)
        exams.append(Exam(visit, sites_by_id.get(visit.get("site_id") or "", {}), person, rows, found, conclusion))
    return exams


def load(connection, year: int | None) -> Ward:
    """Read a year of the ward (every year for None) from the central store, a SQLAlchemy connection."""
    from . import people, store

    def kind(name: str) -> Iterable[dict]:
        if year is None or name not in ("observation", "conclusion"):
            return store.records(connection, name)
        # NOTE: exam records are read by the UTC year of their outbox time and the next year, for corrections
        # after New Year. A visit before 07:00 (UTC+7) on 1 January, or a site clock set a year back, is missed.
        return chain(store.records(connection, name, year), store.records(connection, name, year + 1))

    return build_ward(
        year, people=kind("person"), rounds=kind("exam_round"), sites=kind("site"), invitations=kind("invitation"),
        visits=kind("visit"), observations=kind("observation"), conclusions=kind("conclusion"),
        central_of=people.central_people(connection),
    )

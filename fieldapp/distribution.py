"""Slips bundled for distribution: one bundle per residential group or class, in Vietnamese name order."""

import datetime as dt
import re

import sqlite_utils

from .birthdates import parse_iso
from .groups import GROUPS, parse_groups
from .rounds import get_round, station_plans, sites
from .slips.model import Bundle, Slip
from .stationplans import kind_of, needs_fasting
from .tokens import short_code

BRING = [
    "Căn cước công dân (hoặc VNeID)",
    "Thẻ bảo hiểm y tế",
    "Sổ khám sức khỏe cũ (nếu có)",
    "Kính đang đeo (nếu có)",
]
LEADERS = {"tdp": "Tổ trưởng tổ dân phố", "class": "Giáo viên chủ nhiệm", "other": "Người nhận"}


def _area(tdp: str | None, class_name: str | None) -> tuple[tuple, str, str]:
    """Return (sort key, label, kind) of the area a slip is handed out in."""
    if class_name:
        number = re.match(r"\d+", class_name)
        return (1, int(number.group()) if number else 99, class_name), f"Lớp {class_name}", "class"
    if tdp:
        return (0, int(tdp) if tdp.isdigit() else 999, tdp), f"Tổ dân phố {tdp}", "tdp"
    return (2, 0, ""), "Khác", "other"


def bundles(db: sqlite_utils.Database, round_id: str, only_person: str | None = None) -> list[Bundle]:
    """Return the round's active invitations as slips, bundled by area and sorted for distribution."""
    found = get_round(db, round_id)
    site_by_id = {site["id"]: site for site in sites(db, round_id)}
    plans = station_plans(db, round_id)
    on = dt.date.fromisoformat(found["start_date"])
    query = """SELECT i.token, i.site_id, i.date, i.slot_start, i.slot_end, p.full_name, p.birth_date, p.groups,
                      p.tdp, p.class_name, p.sort_key
               FROM invitation i JOIN person p ON p.id = i.person_id
               WHERE i.round_id = ? AND i.status = 'active' AND i.slot_start IS NOT NULL"""
    params = [round_id]
    if only_person:
        query += " AND i.person_id = ?"
        params.append(only_person)

    grouped: dict[tuple, tuple[str, str, list]] = {}
    for token, site_id, date, start, end, name, birth, groups, tdp, class_name, sort_key in db.execute(query, params):
        key, label, kind = _area(tdp, class_name)
        person_groups = parse_groups(groups)
        parsed_birth = parse_iso(birth) if birth else None
        plan = plans.get(kind_of(parsed_birth, person_groups, on), [])
        main_group = min(person_groups) if person_groups else None
        site = site_by_id[site_id]
        slip = Slip(
            token=token, short_code=short_code(token), full_name=name,
            birth_year=str(parsed_birth.year) if parsed_birth else "",
            area=label, group_label=f"Nhóm {main_group}: {GROUPS[main_group]}" if main_group else "",
            date=dt.date.fromisoformat(date), slot_start=start, slot_end=end,
            site_name=site["name"], site_address=site["address"],
            ward=found["ward"], station=found["station"], title=found["title"],
            bring=list(BRING), fasting=needs_fasting(plan),
        )
        grouped.setdefault(key, (label, LEADERS[kind], []))[2].append((sort_key, slip))

    return [
        Bundle(area=label, leader_title=leader, slips=[slip for _, slip in sorted(items, key=lambda item: item[0])])
        for _, (label, leader, items) in sorted(grouped.items())
    ]

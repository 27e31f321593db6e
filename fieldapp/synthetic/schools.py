"""School workbooks: one per school, one sheet per class."""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

import openpyxl

from fieldapp.synthetic.lists import dedupe_tag, with_duplicates, write_sheet
from fieldapp.synthetic.people import Person, random_date
from fieldapp.synthetic.styles import Style, format_date, format_name, format_phone, given_sort_key, list_address
from fieldapp.synthetic.truth import TruthLog
from fieldapp.synthetic.ward import WardBuilder

PRESCHOOLS = ["Hoa Sen", "Hoa Mai", "Sơn Ca", "Hoa Phượng", "Tuổi Thơ", "Bình Minh"]
SCHOOL_NAMES = ["An Lạc", "Lê Lợi", "Ngô Quyền", "Chu Văn An", "Trần Phú", "Kim Đồng", "Nguyễn Trãi", "Lý Tự Trọng"]


def school_plan(ward: WardBuilder) -> list[tuple[str, str, str, list]]:
    """Return (level, file, school title, grades) for every school, sized to the ward."""
    residents = ward.target
    plan = []
    levels = [
        ("preschool", max(1, math.ceil(residents / 9000)), "truong-mam-non", "TRƯỜNG MẦM NON", PRESCHOOLS,
         [(2020, "Lớn"), (2021, "Nhỡ"), (2022, "Bé")]),
        ("primary", max(1, math.ceil(residents / 12000)), "truong-tieu-hoc", "TRƯỜNG TIỂU HỌC", SCHOOL_NAMES,
         [(2020 - g, str(g)) for g in range(1, 6)]),
        ("secondary", max(1, math.ceil(residents / 18000)), "truong-thcs", "TRƯỜNG THCS", SCHOOL_NAMES[::-1],
         [(2020 - g, str(g)) for g in range(6, 10)]),
    ]
    for level, count, slug, prefix, names, grades in levels:
        for i in range(count):
            name = names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "")
            file = f"{slug}.xlsx" if count == 1 else f"{slug}-{ascii_slug(name)}.xlsx"
            plan.append((level, file, f"{prefix} {name.upper()}", grades))
    return plan


def ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def write_schools(ward: WardBuilder, out: Path, truth: TruthLog) -> None:
    """Write one workbook per school, one sheet per class."""
    rng = ward.rng
    plan = school_plan(ward)
    for level in ("preschool", "primary", "secondary"):
        schools = [s for s in plan if s[0] == level]
        pupils: dict[int, list[Person]] = {i: [] for i in range(len(schools))}
        for p in ward.people:
            if level in p.groups:
                pupils[(p.tdp - 1) * len(schools) // ward.tdp_count].append(p)
        for index, (_, file, school_title, grades) in enumerate(schools):
            members = pupils[index]
            # Children from neighbouring wards attend too; they exist only in the lists.
            for _ in range(round(len(members) * 0.05)):
                birth_year = rng.choice(grades)[0]
                child = ward.add_non_resident(rng.choice("MF"), random_date(rng, birth_year), adult=False)
                child.groups.add(level)
                members.append(child)
            write_school(ward, out, truth, level, file, school_title, grades, members)


def write_school(ward, out, truth, level, file, school_title, grades, members) -> None:
    rng = ward.rng
    preschool = level == "preschool"
    classes: list[tuple[str, int, list]] = []
    for birth_year, grade in grades:
        cohort = [p for p in members if p.birth.year == birth_year]
        rng.shuffle(cohort)
        count = max(1, round(len(cohort) / 35))
        for k in range(count):
            name = f"{grade} {'ABCDEFGHIJKLMN'[k]}" if preschool else f"{grade}{'ABCDEFGHIJKLMN'[k]}"
            pupils = sorted(cohort[k::count], key=given_sort_key)
            classes.append((name, birth_year, [(p, dup, False) for p, dup in with_duplicates(rng, pupils, 0.01)]))
    # A pupil moved to another class of the same grade often stays on the old list as well.
    for name, birth_year, listed in classes:
        siblings = [c for c in classes if c[1] == birth_year and c[0] != name]
        if not siblings:
            continue
        for person, duplicate, _ in list(listed):
            if not duplicate and rng.random() < 0.005:
                target = rng.choice(siblings)[2]
                target.insert(rng.randint(0, len(target)), (person, True, True))

    wb = openpyxl.Workbook(write_only=True)
    base_phone = rng.choice(["plain", "num", "84", "intl"])
    for class_name, _, listed in classes:
        style = Style(
            date=rng.choice(["datetime", "datetime", "datetime", "ddmmyyyy", "dash"]),
            phone=rng.choice([base_phone, base_phone, "dots", "spaces"]),
            caps=1.0 if rng.random() < 0.15 else 0.03, nfd=0.02, spaces=0.03, cccd_missing=0.0,
        )
        if preschool:
            title_rows = [[school_title], [f"DANH SÁCH TRẺ LỚP {class_name.upper()} NĂM HỌC 2025 - 2026"]]
            header_rows = [["STT", "Họ và tên trẻ", "Ngày sinh", "Nam", "Nữ", "Họ tên bố/mẹ", "SĐT", "Địa chỉ"]]
            merges = []
            first_row = 4
        else:
            title_rows = [[school_title], [f"DANH SÁCH HỌC SINH LỚP {class_name} - NĂM HỌC 2025-2026"]]
            # Two-row header: "Giới tính" spans the "Nam" and "Nữ" x-columns below it.
            header_rows = [["STT", "Họ và tên", "Ngày sinh", "Giới tính", None, "Họ tên phụ huynh", "SĐT phụ huynh"],
                           [None, None, None, "Nam", "Nữ", None, None]]
            merges = ["A2:G2", "A3:A4", "B3:B4", "C3:C4", "D3:E3", "F3:F4", "G3:G4"]
            first_row = 5
        rows = []
        for person, duplicate, moved in listed:
            tags = dedupe_tag(duplicate, [])
            if moved:
                tags.append("other_class")
            name = format_name(rng, person.list_name, style, tags)
            birth = format_date(rng, person, style, tags)
            mark = rng.choice(["x", "x", "X"])
            male, female = (mark, None) if person.sex == "M" else (None, mark)
            if rng.random() < 0.005:
                male = female = None
                tags.append("sex_missing")
            parent = person.parent_name
            if parent and rng.random() < 0.05:
                parent = parent.upper()
            phone = format_phone(rng, person.parent_phone, style, tags)
            row = [len(rows) + 1, name, birth, male, female, parent, phone]
            if preschool:
                row.append(list_address(rng, person, 1))
            rows.append(row)
            truth.add(file, class_name, first_row + len(rows) - 1, person, tags)
        write_sheet(wb.create_sheet(class_name), title_rows, header_rows, rows, merges)
    wb.save(out / file)

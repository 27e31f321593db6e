"""Invitation-list writers: elderly, under-2, poor households, social protection and employers."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import openpyxl
from openpyxl.cell import WriteOnlyCell

from fieldapp.legacy import encode_tcvn3
from fieldapp.synthetic.people import Person, date_for_age
from fieldapp.synthetic.styles import (
    Style,
    format_cccd,
    format_date,
    format_name,
    format_phone,
    given_sort_key,
    list_address,
    sex_text,
    strip_one_tone,
    to_cp1258_decomposed,
)
from fieldapp.synthetic.truth import TruthLog
from fieldapp.synthetic.ward import WardBuilder

MERIT_NOTES = ["Vợ liệt sĩ", "Thương binh 2/4", "Bệnh binh", "Người có công với cách mạng", "Mẹ liệt sĩ"]
PHONE_RELATIVE_NOTES = ["SĐT của con", "SĐT người nhà", "Gọi qua người nhà", "Số con"]
OTHER_NOTES = ["Nằm liệt giường", "Đi lại khó khăn", "Hay đi vắng"]
SOCIAL_KINDS = ["Người cao tuổi từ đủ 80 tuổi trở lên", "Trẻ em mồ côi", "Người đơn thân nghèo nuôi con"]
DISABILITY_KINDS = ["Vận động", "Nghe, nói", "Nhìn", "Thần kinh, tâm thần", "Trí tuệ", "Khuyết tật vận động"]
EMPLOYERS = [
    ("CÔNG TY TNHH SẢN XUẤT GIÀY HẢI LONG", "cong-ty-giay-hai-long", "HL", ["Xưởng may 1", "Xưởng may 2", "Xưởng gò", "Phòng QC"]),
    ("CÔNG TY CỔ PHẦN NHỰA AN LẠC", "cong-ty-nhua-an-lac", "NA", ["Tổ ép", "Tổ đóng gói", "Kho", "Văn phòng"]),
    ("CÔNG TY TNHH ĐIỆN TỬ CẢNG XANH", "cong-ty-dien-tu-cang-xanh", "CX", ["Line 1", "Line 2", "Line 3", "Kiểm hàng"]),
    ("CÔNG TY TNHH MAY XUẤT KHẨU HỒNG HÀ", "cong-ty-may-hong-ha", "HH", ["Chuyền 1", "Chuyền 2", "Cắt", "Hoàn thiện"]),
]


def cell(ws, value):
    """Turn a ("datetime", value) marker into a cell shown as dd/mm/yyyy, as Excel users enter dates."""
    if isinstance(value, tuple) and value and value[0] == "datetime":
        date_cell = WriteOnlyCell(ws, value=value[1])
        date_cell.number_format = "dd/mm/yyyy"
        return date_cell
    return value


def write_sheet(ws, title_rows: list, header_rows: list, data_rows: list, merges: list) -> None:
    for row in title_rows + header_rows:
        ws.append(row)
    for row in data_rows:
        ws.append([cell(ws, v) for v in row])
    for ref in merges:
        ws.merged_cells.add(ref)


def with_duplicates(rng: random.Random, people: list[Person], rate: float) -> list[tuple[Person, bool]]:
    """Return people in list order, some listed twice further down as clerks do."""
    out = [(p, False) for p in people]
    for p in people:
        if rng.random() < rate:
            out.insert(rng.randint(0, len(out)), (p, True))
    return out


def dedupe_tag(duplicate: bool, tags: list) -> list:
    if duplicate:
        tags.insert(0, "dup_in_file")
    return tags


def cross_list_error(rng: random.Random, tags: list, rate: float = 0.004) -> str | None:
    """Pick a one-off error in this row only, seen as a disagreement with other lists."""
    if rng.random() >= rate:
        return None
    kind = rng.choice(["xerr_date_swapped", "xerr_year_only", "xerr_cccd_missing", "xerr_tone_missing"])
    tags.append(kind)
    return kind


ELDERLY_COLUMNS = {
    "name": ["Họ và tên", "Họ tên", "HỌ VÀ TÊN"],
    "birth": ["Ngày sinh", "Ngày tháng năm sinh", "Ngày, tháng, năm sinh"],
    "sex": ["Giới", "Giới tính"],
    "cccd": ["Số CCCD", "Số CCCD/CMND", "Số định danh cá nhân", "CCCD"],
    "phone": ["SĐT", "Số điện thoại", "Điện thoại"],
    "address": ["Địa chỉ", "Nơi ở hiện nay"],
}


def write_elderly_lists(ward: WardBuilder, out: Path, truth: TruthLog) -> None:
    """Write one elderly workbook per residential group, each in its own house style."""
    rng = ward.rng
    tcvn3_tdp = 7 if ward.tdp_count >= 7 else ward.tdp_count
    by_tdp: dict[int, list[Person]] = {t: [] for t in range(1, ward.tdp_count + 1)}
    for household in ward.households:
        for p in household:
            if "elderly" in p.groups and (p.lookalike or rng.random() < 0.98):
                by_tdp[p.tdp].append(p)

    for tdp, members in by_tdp.items():
        tcvn3 = tdp == tcvn3_tdp
        file = f"tdp-{tdp:02d}-tcvn3.xlsx" if tcvn3 else f"tdp-{tdp:02d}-nguoi-cao-tuoi.xlsx"
        style = Style(
            date=rng.choice(["datetime", "datetime", "dmyy", "ddmmyyyy", "dash", "year"]) if not tcvn3 else "ddmmyyyy",
            phone=rng.choice(["plain", "num", "dots", "spaces", "84"]),
            cccd=rng.choice(["text", "text", "num"]) if not tcvn3 else "text",
            caps=rng.choice([0.02, 0.05, 1.0 if rng.random() < 0.15 else 0.1]),
            nfd=rng.choice([0.0, 0.02, 0.1]), cmnd9=0.03,
        )
        birth_key = "birth"
        columns = ["name", "birth", "sex", "cccd", "phone", "address"]
        if rng.random() < 0.6:
            rng.shuffle(columns)
            columns.remove("name")
            columns.insert(0, "name")
        headers = ["STT"] + [rng.choice(ELDERLY_COLUMNS[c]) for c in columns] + ["Ghi chú"]
        if style.date == "year":
            headers[1 + columns.index(birth_key)] = "Năm sinh"
        title = [rng.choice([
            f"DANH SÁCH NGƯỜI CAO TUỔI ĐĂNG KÝ KHÁM SỨC KHỎE - TỔ DÂN PHỐ {tdp}",
            f"DANH SÁCH NGƯỜI CAO TUỔI TỔ DÂN PHỐ SỐ {tdp}", f"DANH SÁCH NGƯỜI CAO TUỔI TDP {tdp}",
        ])]
        subtitle = rng.choice([None, "(Khám sức khỏe miễn phí năm 2025)", f"Kèm theo danh sách của Tổ dân phố số {tdp}"])
        width = len(headers)
        title_rows = [title + [None] * (width - 1), [subtitle] + [None] * (width - 1)]
        address_kind = rng.randrange(4)
        sheet = rng.choice(["Sheet1", "DS NCT", "NCT", f"TDP {tdp}"])

        rows = []
        row_number = 4
        for person, duplicate in with_duplicates(rng, members, 0.02):
            tags = dedupe_tag(duplicate, [])
            error = cross_list_error(rng, tags)
            name = person.list_name
            if error == "xerr_tone_missing":
                name = strip_one_tone(name)
            name = format_name(rng, name, style, tags)
            values = {
                "name": name,
                "sex": sex_text(rng, person.sex, 0.1),
                "address": list_address(rng, person, address_kind),
            }
            birth = person.list_birth
            if error == "xerr_date_swapped" and birth.day <= 12 and birth.day != birth.month:
                birth = birth.replace(day=birth.month, month=birth.day)
            date_style = style if error != "xerr_year_only" else Style(date="year")
            values["birth"] = format_date(rng, person, date_style, tags, birth)
            values["cccd"] = None if error == "xerr_cccd_missing" else format_cccd(rng, person, style, tags, ward.ids)
            note = None
            phone = person.phone
            if "merit" in person.groups:
                note = rng.choice(MERIT_NOTES)
            elif "near_poor" in person.groups and rng.random() < 0.3:
                note = "Hộ cận nghèo"
            elif "poor" in person.groups and rng.random() < 0.3:
                note = "Hộ nghèo"
            relatives = [m.phone for m in ward.household_by_id[person.household_id]
                         if m.phone and m is not person and m.age < 60]
            if relatives and (not phone or rng.random() < 0.08):
                phone = rng.choice(relatives)
                tags.append("phone_relative")
                note = note or rng.choice(PHONE_RELATIVE_NOTES)
            elif note is None and rng.random() < 0.02:
                note = rng.choice(OTHER_NOTES)
            values["phone"] = format_phone(rng, phone, style, tags)
            row = [len(rows) + 1] + [values[c] for c in columns] + [note]
            if tcvn3:
                # A few rows were pasted from a Unicode source into the legacy-font sheet.
                if rng.random() < 0.07:
                    tags += ["pasted_unicode", "unicode_row"]
                else:
                    tags.append("tcvn3")
                    row = [encode_tcvn3(v) if isinstance(v, str) else v for v in row]
            rows.append(row)
            truth.add(file, sheet, row_number, person, tags)
            row_number += 1

        header = headers
        if tcvn3:
            title_rows = [[encode_tcvn3(v) if isinstance(v, str) else v for v in r] for r in title_rows]
            header = [encode_tcvn3(v) for v in headers]
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(sheet)
        merges = [f"A1:{openpyxl.utils.get_column_letter(width)}1"] if rng.random() < 0.6 else []
        write_sheet(ws, title_rows, [header], rows, merges)
        wb.save(out / file)


def write_under2(ward: WardBuilder, out: Path, truth: TruthLog) -> None:
    """Write the under-2 CSV (UTF-8 with BOM) with mixed date and phone formats."""
    rng = ward.rng
    file = "tre-duoi-2-tuoi.csv"
    style = Style(date="ddmmyyyy", date_mix=0.25, phone="plain", phone_mix=0.15, caps=0.0, nfd=0.0,
                  spaces=0.02, csv=True)
    babies = sorted((p for p in ward.people if "under2" in p.groups and rng.random() < 0.95), key=lambda p: p.birth)
    with open(out / file, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["STT", "Họ và tên trẻ", "Ngày sinh", "Giới tính", "Họ tên mẹ (người chăm sóc)",
                         "Số điện thoại", "Địa chỉ"])
        for number, (person, duplicate) in enumerate(with_duplicates(rng, babies, 0.01), start=1):
            tags = dedupe_tag(duplicate, [])
            carer = person.mother.full_name if person.mother else person.parent_name
            phone = (person.mother.phone if person.mother else "") or person.parent_phone
            if person.newborn_unnamed and carer:
                # Babies not yet registered are listed under the mother's name.
                name = f"Con bà {carer}"
                tags.append("unnamed_newborn")
            else:
                name = format_name(rng, person.list_name, style, tags)
            writer.writerow([number, name, format_date(rng, person, style, tags), sex_text(rng, person.sex, 0.2),
                             carer, format_phone(rng, phone, style, tags), list_address(rng, person, 1)])
            truth.add(file, "", number + 1, person, tags)


POOR_RELATIONS = {"Chủ hộ", "Vợ", "Chồng", "Con", "Cháu", "Con dâu", "Mẹ", "Bố", "Khác"}


def write_poor(ward: WardBuilder, out: Path, truth: TruthLog) -> None:
    """Write poor and near-poor household members as ';'-separated Windows-1258 with decomposed tones."""
    rng = ward.rng
    file = "ho-ngheo-can-ngheo.csv"
    style = Style(date="ddmmyyyy", date_mix=0.02, cccd="text", caps=0.0, nfd=0.0, spaces=0.03, old_tone=0.3,
                  eth=0.0, csv=True)
    lines = [["DANH SÁCH THÀNH VIÊN HỘ NGHÈO, HỘ CẬN NGHÈO NĂM 2025 - PHƯỜNG AN LẠC"] + [""] * 8, [""] * 9,
             ["STT", "Mã hộ", "Họ và tên", "Quan hệ với chủ hộ", "Ngày sinh", "Giới tính", "Số CCCD", "Địa chỉ",
              "Phân loại hộ"]]
    households = sorted((h for h in ward.households if h and ({"poor", "near_poor"} & h[0].groups)),
                        key=lambda h: (h[0].tdp, h[0].household_id))
    counters: dict[tuple, int] = {}
    for number, household in enumerate(households, start=1):
        poor = "poor" in household[0].groups
        key = ("HN" if poor else "CN", household[0].tdp)
        counters[key] = counters.get(key, 0) + 1
        code = f"{key[0]}-{key[1]:02d}-{counters[key]:03d}"
        head = household[0]
        address = (f"Số {head.house_number}, ngõ {head.alley} {head.street}, Tổ {head.tdp}" if head.alley
                   else f"{head.house_number} {head.street} - Tổ {head.tdp}")
        members = [(p, False) for p in household]
        if rng.random() < 0.03:
            members.append((rng.choice(household), True))
        for position, (person, duplicate) in enumerate(members):
            tags = dedupe_tag(duplicate, [])
            error = cross_list_error(rng, tags)
            name = person.list_name if error != "xerr_tone_missing" else strip_one_tone(person.list_name)
            birth = person.list_birth
            if error == "xerr_date_swapped" and birth.day <= 12 and birth.day != birth.month:
                birth = birth.replace(day=birth.month, month=birth.day)
            date_style = style if error != "xerr_year_only" else Style(date="year", csv=True)
            cccd_style = Style(cccd="num" if rng.random() < 0.3 else "text", cccd_missing=0.04, csv=True)
            kind = rng.choice(["Hộ nghèo", "Hộ nghèo", "Nghèo"] if poor else ["Hộ cận nghèo", "Hộ cận nghèo", "Cận nghèo"])
            lines.append([
                str(number) if position == 0 else "",
                code if position == 0 or rng.random() < 0.5 else "",
                format_name(rng, name, style, tags),
                person.relation if person.relation in POOR_RELATIONS else "Khác",
                format_date(rng, person, date_style, tags, birth),
                sex_text(rng, person.sex, 0.3),
                "" if error == "xerr_cccd_missing" else (format_cccd(rng, person, cccd_style, tags, ward.ids) or ""),
                address, kind,
            ])
            truth.add(file, "", len(lines), person, tags)
    with open(out / file, "wb") as handle:
        for line in lines:
            handle.write(to_cp1258_decomposed(";".join(str(v) for v in line)) + b"\r\n")


def write_social(ward: WardBuilder, out: Path, truth: TruthLog) -> None:
    """Write the social-protection and disability list with split "Họ đệm" and "Tên" columns."""
    rng = ward.rng
    file = "bao-tro-xa-hoi.xlsx"
    style = Style(date="dmyy", date_mix=0.03, cccd="num", caps=0.02, nfd=0.02, spaces=0.05, cccd_missing=0.05)
    people = sorted((p for p in ward.people if p.groups & {"social_protection", "disabled"}), key=given_sort_key)
    headers = ["STT", "Họ đệm", "Tên", "Ngày sinh", "Giới tính", "Số CCCD", "Địa chỉ", "Đối tượng",
               "Dạng khuyết tật", "Mức độ khuyết tật"]
    rows = []
    for person, duplicate in with_duplicates(rng, people, 0.02):
        tags = dedupe_tag(duplicate, [])
        name = format_name(rng, person.list_name, style, tags).strip()
        words = name.split(" ")
        if len(words) >= 3 and rng.random() < 0.05:
            tags.append("split_given2")
            family, given = words[0], " ".join(words[1:])
        else:
            family, given = " ".join(words[:-1]), words[-1]
        if "disabled" in person.groups:
            level = rng.choice(["Nặng", "Nhẹ", "Nhẹ", "Đặc biệt nặng"])
            kind, disability = f"Người khuyết tật {level.lower()}", rng.choice(DISABILITY_KINDS)
        else:
            level = disability = None
            kind = SOCIAL_KINDS[0] if person.age >= 80 else SOCIAL_KINDS[1] if person.age < 16 else SOCIAL_KINDS[2]
        rows.append([len(rows) + 1, family + (" " if rng.random() < 0.03 else ""), given,
                     format_date(rng, person, style, tags), sex_text(rng, person.sex),
                     format_cccd(rng, person, style, tags, ward.ids), list_address(rng, person, 3),
                     kind, disability, level])
        truth.add(file, "Danh sách", len(rows) + 3, person, tags)
    wb = openpyxl.Workbook(write_only=True)
    title_rows = [["DANH SÁCH ĐỐI TƯỢNG BẢO TRỢ XÃ HỘI VÀ NGƯỜI KHUYẾT TẬT"], ["Phường An Lạc - tháng 10 năm 2025"]]
    write_sheet(wb.create_sheet("Danh sách"), title_rows, [headers], rows, [])
    wb.save(out / file)


def write_employers(ward: WardBuilder, out: Path, truth: TruthLog) -> None:
    """Write one workbook per employer; about 45 % of workers live outside the ward."""
    rng = ward.rng
    count = min(len(EMPLOYERS), 1 + ward.target // 25000)
    staff: list[list[Person]] = [[] for _ in range(count)]
    for p in ward.people:
        if "worker" in p.groups:
            staff[rng.randrange(count)].append(p)
    for index in range(count):
        for _ in range(round(len(staff[index]) * 0.8)):
            age = rng.randint(19, 50)
            worker = ward.add_non_resident(rng.choice("MF"), date_for_age(rng, age), adult=True)
            worker.groups.add("worker")
            staff[index].append(worker)

    for index, (company, slug, code_prefix, departments) in enumerate(EMPLOYERS[:count]):
        if index == 0:
            style = Style(date="datetime", phone="dots", cccd="text", caps=1.0, nfd=0.1, cccd_missing=0.02)
            columns = ["code", "name", "birth", "sex", "cccd", "department", "phone", "address"]
        else:
            style = Style(date=rng.choice(["datetime", "ddmmyyyy"]), phone=rng.choice(["num", "plain", "spaces"]),
                          cccd=rng.choice(["text", "num"]), caps=0.05, nfd=0.05, cccd_missing=0.02)
            columns = ["code", "name", "birth", "sex", "cccd", "department", "phone", "address"]
            rng.shuffle(columns)
        header_names = {"code": "Mã NV", "name": "Họ và tên", "birth": "Ngày sinh", "sex": "Giới tính",
                        "cccd": "Số CCCD", "department": "Bộ phận", "phone": "Điện thoại",
                        "address": "Địa chỉ thường trú"}
        assigned = [(rng.choice(departments), p) for p in staff[index]]
        assigned.sort(key=lambda pair: (departments.index(pair[0]), pair[1].pid))
        codes = rng.sample(range(1000, 1000 + 4 * len(assigned) + 10), len(assigned))
        rows = []
        listed = [(pair, False) for pair in assigned]
        for pair in assigned:
            if rng.random() < 0.02:
                listed.append((pair, True))
        for ((department, person), duplicate), code in zip(listed, codes + codes):
            tags = dedupe_tag(duplicate, [])
            address = person.address
            if person.resident:
                address = rng.choice([f"{list_address(rng, person, 3)}, P. An Lạc", f"{list_address(rng, person, 3)} - An Lạc"])
            values = {
                "code": f"{code_prefix}{code:05d}",
                "name": format_name(rng, person.list_name, style, tags),
                "birth": format_date(rng, person, style, tags),
                "sex": sex_text(rng, person.sex),
                "cccd": format_cccd(rng, person, style, tags, ward.ids),
                "department": department,
                "phone": format_phone(rng, person.phone, style, tags),
                "address": address,
            }
            rows.append([len(rows) + 1] + [values[c] for c in columns])
            truth.add(f"{slug}.xlsx", "DS CBCNV", len(rows) + 4, person, tags)
        title_rows = [[company], ["DANH SÁCH CÔNG NHÂN LAO ĐỘNG KHÁM SỨC KHỎE NĂM 2025"], [None]]
        wb = openpyxl.Workbook(write_only=True)
        write_sheet(wb.create_sheet("DS CBCNV"), title_rows, [["STT"] + [header_names[c] for c in columns]], rows, [])
        wb.save(out / f"{slug}.xlsx")

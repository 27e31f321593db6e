"""Generate a synthetic ward: messy invitation lists, a police extract and the truth.

Usage:
    python bench/make_ward.py --residents 50000 --seed 1 --out DIR

DIR/lists/ gets the invitation lists: elderly lists per residential group (TDP),
one of them in TCVN3, and school workbooks with one sheet per class. It also gets
an under-2 CSV in UTF-8 with BOM and a poor/near-poor households CSV in
Windows-1258 with decomposed tone marks. The social-protection workbook has split
name columns, and each employer sends its own workbook.

DIR/population.csv is the police extract of residents aged 14+. DIR/truth/ holds
truth.csv, people.csv, lookalikes.csv and summary.json.

Every person, ID number and phone number is synthetic.  Output depends only on
--residents and --seed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import random
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.cell import WriteOnlyCell

try:
    from fieldapp.legacy import encode_tcvn3
except ImportError:
    encode_tcvn3 = None

REFERENCE_DATE = dt.date(2025, 10, 15)
WARD = "phường An Lạc"
CITY = "thành phố Hải Phòng"
DATA_DIR = Path(__file__).resolve().parent / "data" / "vn-given-names"

GROUP_ORDER = [
    "elderly", "merit", "poor", "near_poor", "social_protection", "disabled",
    "under2", "preschool", "primary", "secondary", "worker",
]

# Approximate shares (percent) of Vietnamese family names, with a flat tail.
FAMILY_NAMES = [
    ("Nguyễn", 36), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 4),
    ("Vũ", 4), ("Phan", 3), ("Đặng", 2.5), ("Bùi", 2.5), ("Đỗ", 2),
    ("Ngô", 1.5), ("Hồ", 1.2), ("Dương", 1), ("Đào", 1), ("Đinh", 1),
    ("Lý", 0.6), ("Mai", 0.6), ("Cao", 0.6), ("Lương", 0.5), ("Trịnh", 0.5),
    ("Tạ", 0.5), ("Lại", 0.4), ("Triệu", 0.4), ("Nghiêm", 0.3), ("Mạc", 0.3),
    ("Phí", 0.3), ("Vương", 0.3), ("Chu", 0.3), ("Đồng", 0.3), ("Kiều", 0.3),
    ("Huỳnh", 0.3), ("Võ", 0.3), ("Lưu", 0.3), ("Hà", 0.3), ("Tô", 0.3),
]
MALE_MIDDLE = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thành", "Ngọc", "Mạnh", "Tiến", "Duy", "Đình"]
FEMALE_MIDDLE = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Phương", "Hồng", "Kim", "Mỹ", "Bích"]

STREETS = [
    "Trần Nguyên Hãn", "Hai Bà Trưng", "Lương Khánh Thiện", "Thiên Lôi", "Hàng Kênh",
    "Dư Hàng", "Bạch Đằng", "Nguyễn Văn Linh", "Cát Cụt", "Nguyễn Đức Cảnh",
    "Đằng Lâm", "Trần Phú", "Lạch Tray", "Tô Hiệu", "Miếu Hai Xã", "Chợ Con",
    "Đình Đông", "Nguyễn Công Trứ", "Hồ Sen", "Võ Thị Sáu",
]
OTHER_PLACES = [
    ("phường Vĩnh Niệm, quận Lê Chân", "031"), ("phường Dư Hàng Kênh, quận Lê Chân", "031"),
    ("phường Cát Bi, quận Hải An", "031"), ("xã Tân Tiến, huyện An Dương, Hải Phòng", "031"),
    ("phường Hải Tân, thành phố Hải Dương, Hải Dương", "030"),
    ("xã Hồng Phong, huyện Ninh Giang, Hải Dương", "030"),
    ("xã An Vũ, huyện Quỳnh Phụ, Thái Bình", "034"), ("xã Nghĩa Hưng, huyện Nghĩa Hưng, Nam Định", "036"),
    ("phường Hồng Gai, thành phố Hạ Long, Quảng Ninh", "022"), ("xã Yên Mỹ, huyện Yên Mỹ, Hưng Yên", "033"),
]
# CCCD province prefixes and their weights, so that 031 (Hải Phòng) dominates.
CCCD_PROVINCES = [("031", 84), ("030", 5), ("001", 3), ("022", 2.4), ("034", 2.3), ("036", 1.4),
                  ("033", 0.8), ("037", 0.6), ("038", 0.5), ("035", 0.2), ("040", 0.2)]
PHONE_PREFIXES = (
    ["032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "059", "070",
     "076", "077", "078", "079"] + [f"08{d}" for d in range(1, 10)] + [f"09{d}" for d in range(10)]
)
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
PRESCHOOLS = ["Hoa Sen", "Hoa Mai", "Sơn Ca", "Hoa Phượng", "Tuổi Thơ", "Bình Minh"]
SCHOOL_NAMES = ["An Lạc", "Lê Lợi", "Ngô Quyền", "Chu Văn An", "Trần Phú", "Kim Đồng", "Nguyễn Trãi", "Lý Tự Trọng"]

TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"

# TCVN3 (ABC, TCVN 5712:1993) byte for each Vietnamese letter, as the single
# Latin-1 character that legacy .Vn fonts draw. Capitals with a tone mark have
# no code of their own, so they reuse the lowercase byte and lose their case.
_TCVN3_LOWER = {
    "à": 0xB5, "ả": 0xB6, "ã": 0xB7, "á": 0xB8, "ạ": 0xB9, "ă": 0xA8, "ằ": 0xBB, "ẳ": 0xBC,
    "ẵ": 0xBD, "ắ": 0xBE, "ặ": 0xC6, "â": 0xA9, "ầ": 0xC7, "ẩ": 0xC8, "ẫ": 0xC9, "ấ": 0xCA,
    "ậ": 0xCB, "đ": 0xAE, "è": 0xCC, "ẻ": 0xCE, "ẽ": 0xCF, "é": 0xD0, "ẹ": 0xD1, "ê": 0xAA,
    "ề": 0xD2, "ể": 0xD3, "ễ": 0xD4, "ế": 0xD5, "ệ": 0xD6, "ì": 0xD7, "ỉ": 0xD8, "ĩ": 0xDC,
    "í": 0xDD, "ị": 0xDE, "ò": 0xDF, "ỏ": 0xE1, "õ": 0xE2, "ó": 0xE3, "ọ": 0xE4, "ô": 0xAB,
    "ồ": 0xE5, "ổ": 0xE6, "ỗ": 0xE7, "ố": 0xE8, "ộ": 0xE9, "ơ": 0xAC, "ờ": 0xEA, "ở": 0xEB,
    "ỡ": 0xEC, "ớ": 0xED, "ợ": 0xEE, "ù": 0xEF, "ủ": 0xF1, "ũ": 0xF2, "ú": 0xF3, "ụ": 0xF4,
    "ư": 0xAD, "ừ": 0xF5, "ử": 0xF6, "ữ": 0xF7, "ứ": 0xF8, "ự": 0xF9, "ỳ": 0xFA, "ỷ": 0xFB,
    "ỹ": 0xFC, "ý": 0xFD, "ỵ": 0xFE,
}
_TCVN3_UPPER = {"Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7}


def local_encode_tcvn3(text: str) -> str:
    """Map NFC Vietnamese text to TCVN3 bytes shown as Latin-1 characters."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _TCVN3_UPPER:
            out.append(chr(_TCVN3_UPPER[ch]))
        elif ch in _TCVN3_LOWER:
            out.append(chr(_TCVN3_LOWER[ch]))
        elif ch.lower() in _TCVN3_LOWER:
            out.append(chr(_TCVN3_LOWER[ch.lower()]))
        else:
            out.append(ch)
    return "".join(out)


if encode_tcvn3 is None:
    # NOTE: fieldapp.legacy was not importable, so the local table above encodes
    # TCVN3; run with PYTHONPATH at the repo root to use the shared encoder.
    encode_tcvn3 = local_encode_tcvn3


def to_cp1258_decomposed(text: str) -> bytes:
    """Encode text as Windows-1258 with tone marks as separate combining bytes."""
    pieces = []
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        pieces.append(base + tones)
    return "".join(pieces).encode("cp1258")


# ---------------------------------------------------------------------------
# People and households


@dataclass(slots=True)
class Person:
    pid: str
    full_name: str
    sex: str
    birth: dt.date
    year_only: bool = False
    cccd: str = ""
    phone: str = ""
    resident: bool = True
    household_id: str = ""
    tdp: int = 0
    relation: str = ""
    address: str = ""
    house_number: int = 0
    alley: int = 0
    street: str = ""
    parent_name: str = ""
    parent_phone: str = ""
    groups: set = field(default_factory=set)
    name_in_lists: str = ""
    birth_in_lists: dt.date | None = None
    variant: str = ""
    lookalike: bool = False
    newborn_unnamed: bool = False
    mother: "Person | None" = None

    @property
    def age(self) -> int:
        """Return the age in whole years on the reference date."""
        b = self.birth
        return REFERENCE_DATE.year - b.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (b.month, b.day))

    @property
    def birth_text(self) -> str:
        """Return the birth date as yyyy-mm-dd, or yyyy when only the year is known."""
        return str(self.birth.year) if self.year_only else self.birth.isoformat()

    @property
    def list_name(self) -> str:
        """Return the name as invitation lists spell it, variant included."""
        return self.name_in_lists or self.full_name

    @property
    def list_birth(self) -> dt.date:
        """Return the birth date as invitation lists give it, variant included."""
        return self.birth_in_lists or self.birth


def load_given_names(kind: str) -> list[str]:
    """Read a given-name list, mapping U+00D0 to U+0110 so that truth names are clean."""
    text = (DATA_DIR / f"{kind}.txt").read_text(encoding="utf-8")
    names = []
    for line in text.splitlines():
        line = unicodedata.normalize("NFC", line.strip().replace("\u00d0", "\u0110"))
        if line and len(line.split()) <= 2:
            names.append(line)
    return names


class NameMaker:
    """Draws Vietnamese full names from family, middle and given-name lists."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.families = [name for name, _ in FAMILY_NAMES]
        self.family_weights = [weight for _, weight in FAMILY_NAMES]
        self.given_names = {"M": load_given_names("boy"), "F": load_given_names("girl")}

    def family(self) -> str:
        return self.rng.choices(self.families, self.family_weights)[0]

    def given_name(self, sex: str, birth_year: int) -> str:
        """Pick middle and given names, favouring Văn/Thị for older generations."""
        rng = self.rng
        entry = rng.choice(self.given_names[sex])
        last = entry.split()[-1]
        if birth_year < 1975:
            classic = 0.6
        elif birth_year < 2000:
            classic = 0.3
        else:
            classic = 0.1
        if rng.random() < classic:
            return ("Văn " if sex == "M" else "Thị ") + last
        if sex == "F" and len(entry.split()) == 2 and rng.random() < 0.12:
            return "Thị " + entry
        if len(entry.split()) == 1:
            return rng.choice(MALE_MIDDLE if sex == "M" else FEMALE_MIDDLE) + " " + entry
        return entry

    def full(self, sex: str, birth_year: int, family: str | None = None) -> str:
        return f"{family or self.family()} {self.given_name(sex, birth_year)}"


class IdMaker:
    """Issues unique synthetic CCCD, CMND and phone numbers."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.provinces = [p for p, _ in CCCD_PROVINCES]
        self.province_weights = [w for _, w in CCCD_PROVINCES]

    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def cccd(self, sex: str, birth_year: int, province: str | None = None) -> str:
        """Build a CCCD: province, century/sex digit, two year digits, six random digits."""
        province = province or self.rng.choices(self.provinces, self.province_weights)[0]
        century_sex = 0 if birth_year < 2000 else 2
        if sex == "F":
            century_sex += 1
        prefix = f"{province}{century_sex}{birth_year % 100:02d}"
        return self._unique(lambda: prefix + f"{self.rng.randrange(10**6):06d}")

    def cmnd(self) -> str:
        return self._unique(lambda: "03" + f"{self.rng.randrange(10**7):07d}")

    def phone(self) -> str:
        return self._unique(lambda: self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**7):07d}")


def random_date(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def date_for_age(rng: random.Random, age: int) -> dt.date:
    """Return a birth date that gives the requested age on the reference date."""
    latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age)
    return latest - dt.timedelta(days=rng.randrange(1, 365))


# Child ages weighted so that under-2s are about 1.5 % and 3-14 about 20 % of residents.
CHILD_AGE_WEIGHTS = [0.75, 0.8, 0.8, 0.9, 0.95, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.9, 0.9, 0.8, 0.8]


class WardBuilder:
    """Builds households, residents and non-residents for one ward."""

    def __init__(self, residents: int, seed: int):
        self.rng = random.Random(seed)
        self.target = residents
        self.names = NameMaker(self.rng)
        self.ids = IdMaker(self.rng)
        self.people: list[Person] = []
        self.households: list[list[Person]] = []
        self.tdp_count = max(4, round(residents / 1250))
        self.tdp_streets = [STREETS[i % len(STREETS)] for i in range(self.tdp_count)]
        self.lookalikes: list[tuple[str, Person, Person]] = []

    def new_person(self, name: str, sex: str, birth: dt.date, **kwargs) -> Person:
        person = Person(pid=f"P{len(self.people) + 1:06d}", full_name=name, sex=sex, birth=birth, **kwargs)
        self.people.append(person)
        return person

    def add_resident(self, household: list[Person], hid: str, address: tuple, relation: str,
                     sex: str, birth: dt.date, family: str | None = None, name: str | None = None) -> Person:
        tdp, house, alley, street, text = address
        person = self.new_person(
            name or self.names.full(sex, birth.year, family), sex, birth,
            household_id=hid, tdp=tdp, relation=relation, address=text,
            house_number=house, alley=alley, street=street,
        )
        age = person.age
        if age >= 14:
            person.cccd = self.ids.cccd(sex, birth.year)
        if age >= 16 and self.rng.random() < (0.93 if age < 75 else 0.6):
            person.phone = self.ids.phone()
        if age >= 60 and birth.year <= 1955 and self.rng.random() < 0.09:
            person.year_only = True
        household.append(person)
        return person

    def make_address(self, tdp: int) -> tuple:
        rng = self.rng
        street = self.tdp_streets[tdp - 1]
        house = rng.randint(1, 99)
        alley = rng.choice([0] + [rng.randrange(5, 420) for _ in range(3)])
        if alley:
            text = f"Số {house}, ngõ {alley} {street}, tổ dân phố {tdp}, {WARD}, {CITY}"
        else:
            house = rng.randint(1, 650)
            text = f"Số {house} {street}, tổ dân phố {tdp}, {WARD}, {CITY}"
        return tdp, house, alley, street, text

    def add_children(self, household, hid, address, mother_age, family, mother, father, count):
        rng = self.rng
        ages = []
        age = rng.choices(range(len(CHILD_AGE_WEIGHTS)), CHILD_AGE_WEIGHTS)[0]
        for _ in range(count):
            if mother_age - age < 19:
                break
            ages.append(age)
            # Older siblings, so that the youngest child keeps the weighted age.
            age += rng.randint(2, 6)
        for age in ages:
            sex = "M" if rng.random() < 0.53 else "F"
            child = self.add_resident(household, hid, address, "Con", sex, date_for_age(rng, age), family)
            child.mother = mother
            parent = mother if mother and (rng.random() < 0.7 or not father) else father
            if age < 18 and parent:
                child.parent_name, child.parent_phone = parent.full_name, parent.phone
            if age < 1 and rng.random() < 0.12:
                child.newborn_unnamed = True

    def build_household(self, tdp: int) -> None:
        rng = self.rng
        hid = f"H{len(self.households) + 1:05d}"
        address = self.make_address(tdp)
        members: list[Person] = []
        kind = rng.choices(["young", "middle", "elderly", "single"], [52, 22, 18, 8])[0]

        if kind == "single":
            sex = rng.choice("MF")
            self.add_resident(members, hid, address, "Chủ hộ", sex, date_for_age(rng, rng.randint(20, 59)))
        elif kind in ("young", "middle"):
            head_age = rng.randint(24, 44) if kind == "young" else rng.randint(45, 59)
            family = self.names.family()
            head_sex = "M" if rng.random() < 0.82 else "F"
            head = self.add_resident(members, hid, address, "Chủ hộ", head_sex, date_for_age(rng, head_age),
                                     family if head_sex == "M" else None)
            spouse = None
            if rng.random() < 0.88:
                spouse_age = max(20, head_age + rng.randint(-6, 2) * (1 if head_sex == "M" else -1))
                spouse = self.add_resident(members, hid, address, "Vợ" if head_sex == "M" else "Chồng",
                                           "F" if head_sex == "M" else "M", date_for_age(rng, spouse_age),
                                           family if head_sex == "F" else None)
            mother = head if head_sex == "F" else spouse
            father = head if head_sex == "M" else spouse
            mother_age = mother.age if mother else head_age
            if kind == "young":
                self.add_children(members, hid, address, mother_age, family, mother, father, rng.choice([1, 1, 2, 2, 2, 3]))
                if rng.random() < 0.22:
                    sex = "F" if rng.random() < 0.7 else "M"
                    self.add_resident(members, hid, address, "Mẹ" if sex == "F" else "Bố", sex,
                                      date_for_age(rng, min(96, head_age + rng.randint(22, 34))),
                                      family if sex == "M" else None)
            else:
                for _ in range(rng.choice([0, 1, 1, 2])):
                    age = rng.randint(12, max(13, min(32, mother_age - 20)))
                    sex = rng.choice("MF")
                    child = self.add_resident(members, hid, address, "Con", sex, date_for_age(rng, age), family)
                    if age < 18 and mother:
                        child.parent_name, child.parent_phone = mother.full_name, mother.phone
            if rng.random() < 0.05:
                self.add_resident(members, hid, address, "Khác", rng.choice("MF"), date_for_age(rng, rng.randint(19, 40)))
        else:
            head_age = min(98, 60 + int(rng.expovariate(1 / 11)))
            family = self.names.family()
            head_sex = "M" if rng.random() < 0.6 else "F"
            head = self.add_resident(members, hid, address, "Chủ hộ", head_sex, date_for_age(rng, head_age),
                                     family if head_sex == "M" else None)
            if rng.random() < 0.6:
                self.add_resident(members, hid, address, "Vợ" if head_sex == "M" else "Chồng",
                                  "F" if head_sex == "M" else "M",
                                  date_for_age(rng, max(55, head_age + rng.randint(-7, 3))),
                                  family if head_sex == "F" else None)
            if rng.random() < 0.45:
                son_age = rng.randint(max(25, head_age - 45), max(26, head_age - 22))
                son = self.add_resident(members, hid, address, "Con", "M", date_for_age(rng, son_age),
                                        family if head_sex == "M" else None)
                wife = self.add_resident(members, hid, address, "Con dâu", "F", date_for_age(rng, max(22, son_age + rng.randint(-5, 1))))
                before = len(members)
                self.add_children(members, hid, address, wife.age, son.full_name.split()[0], wife, son, rng.choice([1, 2, 2]))
                for grandchild in members[before:]:
                    grandchild.relation = "Cháu"

        self.households.append(members)

    def build(self) -> None:
        """Create residents and look-alike pairs. Non-residents are added later, with the lists."""
        twin_pairs = max(1, round(self.target / 1000))
        tdp = 1
        while len(self.people) < self.target - twin_pairs:
            self.build_household(tdp)
            tdp = tdp % self.tdp_count + 1
        # Households are built whole, so trim the last one to hit the requested count.
        while len(self.people) > self.target - twin_pairs:
            removed = self.people.pop()
            self.households[-1].remove(removed)
        self.households = [h for h in self.households if h]
        self.add_twins(twin_pairs)
        self.add_father_son_same_name(max(1, round(self.target / 1500)))
        self.add_same_name_year_other_tdp(max(1, round(self.target / 1000)))
        self.household_by_id = {h[0].household_id: h for h in self.households}

    # -- look-alikes ---------------------------------------------------------

    NEAR_NAMES = {
        "M": [("An", "Ân"), ("Mạnh", "Minh"), ("Khang", "Khanh"), ("Tâm", "Tân"), ("Phúc", "Phú"),
              ("Hưng", "Hùng"), ("Long", "Lâm"), ("Sơn", "Sang")],
        "F": [("Hà", "Hân"), ("Ngọc", "Ngân"), ("Linh", "Lan"), ("Trang", "Trâm"), ("Vy", "Vi"),
              ("My", "Mi"), ("Thảo", "Thanh"), ("Anh", "Ánh")],
    }

    def add_twins(self, pairs: int) -> None:
        """Add a twin with a near name next to school-age children."""
        rng = self.rng
        candidates = [p for p in self.people if 3 <= p.age <= 14 and p.relation in ("Con", "Cháu")]
        rng.shuffle(candidates)
        used_households = set()
        for child in candidates:
            if pairs == 0:
                break
            if child.household_id in used_households:
                continue
            used_households.add(child.household_id)
            first, second = rng.choice(self.NEAR_NAMES[child.sex])
            words = child.full_name.split()
            if len(words) > 2:
                middle = words[1]
            else:
                middle = "Bảo" if child.sex == "M" else "Ngọc"
            child.full_name = f"{words[0]} {middle} {first}"
            household = next(h for h in self.households if h and h[0].household_id == child.household_id)
            twin = self.new_person(
                f"{words[0]} {middle} {second}", child.sex, child.birth,
                household_id=child.household_id, tdp=child.tdp, relation=child.relation,
                address=child.address, house_number=child.house_number, alley=child.alley,
                street=child.street, parent_name=child.parent_name, parent_phone=child.parent_phone,
            )
            twin.mother = child.mother
            household.append(twin)
            child.lookalike = twin.lookalike = True
            self.lookalikes.append(("twins_near_names", child, twin))
            pairs -= 1

    def add_father_son_same_name(self, pairs: int) -> None:
        for household in self.households:
            if pairs == 0:
                return
            head = household[0]
            if head.sex != "M" or head.age < 62 or head.lookalike:
                continue
            sons = [p for p in household if p.relation == "Con" and p.sex == "M" and p.age >= 25]
            if not sons:
                continue
            son = sons[0]
            son.full_name = head.full_name
            head.lookalike = son.lookalike = True
            self.lookalikes.append(("father_son_same_name", head, son))
            pairs -= 1

    def add_same_name_year_other_tdp(self, pairs: int) -> None:
        rng = self.rng
        elderly = [p for p in self.people if 62 <= p.age <= 85 and not p.lookalike and not p.year_only]
        rng.shuffle(elderly)
        for a, b in zip(elderly[0::2], elderly[1::2]):
            if pairs == 0:
                return
            if a.tdp == b.tdp or a.sex != b.sex or a.lookalike or b.lookalike:
                continue
            b.full_name = a.full_name
            day = min(b.birth.day, 28)
            b.birth = dt.date(a.birth.year, b.birth.month, day)
            if b.birth == a.birth:
                b.birth += dt.timedelta(days=40)
            b.cccd = self.ids.cccd(b.sex, b.birth.year)
            a.lookalike = b.lookalike = True
            self.lookalikes.append(("same_name_year_other_tdp", a, b))
            pairs -= 1

    # -- non-residents -------------------------------------------------------

    def add_non_resident(self, sex: str, birth: dt.date, adult: bool) -> Person:
        rng = self.rng
        place, province = rng.choice(OTHER_PLACES)
        address = f"Số {rng.randint(1, 300)}, tổ dân phố {rng.randint(1, 30)}, {place}" if rng.random() < 0.5 else place
        person = self.new_person(self.names.full(sex, birth.year), sex, birth, resident=False, address=address)
        if adult:
            person.cccd = self.ids.cccd(sex, birth.year, province)
            person.phone = self.ids.phone() if rng.random() < 0.9 else ""
        else:
            parent_sex = "F" if rng.random() < 0.7 else "M"
            person.parent_name = self.names.full(parent_sex, birth.year - 30, person.full_name.split()[0] if parent_sex == "M" else None)
            person.parent_phone = self.ids.phone()
        return person


# ---------------------------------------------------------------------------
# Groups and variants


def assign_groups(ward: WardBuilder) -> None:
    """Mark who belongs to each invitation group."""
    rng = ward.rng
    residents = [p for p in ward.people if p.resident]
    for p in residents:
        age = p.age
        if age >= 60:
            p.groups.add("elderly")
            if rng.random() < 0.02:
                p.groups.add("merit")
        if age < 2:
            p.groups.add("under2")
        birth_year = p.birth.year
        # School year 2025-2026: preschool born 2020-2022, primary 2015-2019, secondary 2011-2014.
        if 2020 <= birth_year <= 2022 and rng.random() < 0.93:
            p.groups.add("preschool")
        elif 2015 <= birth_year <= 2019:
            p.groups.add("primary")
        elif 2011 <= birth_year <= 2014 and rng.random() < 0.98:
            p.groups.add("secondary")
        if 18 <= age <= 55 and rng.random() < 0.03:
            p.groups.add("worker")
        if rng.random() < (0.011 if age >= 5 else 0.003):
            p.groups.add("disabled")
            if rng.random() < 0.5:
                p.groups.add("social_protection")
        elif age >= 80 and rng.random() < 0.12:
            p.groups.add("social_protection")
        elif age < 16 and rng.random() < 0.002:
            p.groups.add("social_protection")

    for household in ward.households:
        roll = rng.random()
        kind = None
        if roll < 0.012:
            kind = "poor"
        elif roll < 0.036:
            kind = "near_poor"
        if kind:
            for p in household:
                p.groups.add(kind)


def apply_variants(ward: WardBuilder) -> None:
    """Give a few listed adults a consistently different name or birth date in the lists."""
    rng = ward.rng
    for p in ward.people:
        if not p.resident or p.lookalike or p.age < 18 or not p.groups or rng.random() > 0.012:
            continue
        kind = rng.choices(["name_drop_middle", "name_tone_wrong", "dob_day", "dob_swap"], [40, 25, 25, 10])[0]
        words = p.full_name.split()
        if kind == "name_drop_middle" and len(words) >= 3:
            p.name_in_lists = f"{words[0]} {words[-1]}"
        elif kind == "name_tone_wrong":
            changed = change_tone(rng, p.full_name)
            if changed == p.full_name:
                continue
            p.name_in_lists = changed
        elif kind == "dob_day" and not p.year_only:
            day = rng.choice([d for d in range(1, 29) if d != p.birth.day])
            p.birth_in_lists = p.birth.replace(day=day)
        elif kind == "dob_swap" and not p.year_only and p.birth.day <= 12 and p.birth.day != p.birth.month:
            p.birth_in_lists = p.birth.replace(day=p.birth.month, month=p.birth.day)
        else:
            continue
        p.variant = kind


def change_tone(rng: random.Random, name: str) -> str:
    """Swap the tone mark of one syllable for another tone, keeping the rest."""
    words = unicodedata.normalize("NFD", name).split()
    toned = [i for i, w in enumerate(words) if any(c in TONE_MARKS for c in w)]
    if not toned:
        return name
    i = rng.choice(toned)
    old = next(c for c in words[i] if c in TONE_MARKS)
    new = rng.choice([t for t in TONE_MARKS if t != old])
    words[i] = words[i].replace(old, new)
    return unicodedata.normalize("NFC", " ".join(words))


# ---------------------------------------------------------------------------
# Cell formatting with the quirks seen in real lists


OLD_TONE_PATTERNS = [re.compile(r"([oO])([\u0300\u0301\u0303\u0309\u0323])([aAeE])$"),
                     re.compile(r"([uU])([\u0300\u0301\u0303\u0309\u0323])([yY])$")]


def old_tone_style(name: str) -> str:
    """Move the tone of open oa/oe/uy syllables to the second vowel (Hòa to Hoà, Thủy to Thuỷ)."""
    words = []
    for word in unicodedata.normalize("NFD", name).split(" "):
        for pattern in OLD_TONE_PATTERNS:
            word = pattern.sub(r"\1\3\2", word)
        words.append(word)
    return unicodedata.normalize("NFC", " ".join(words))


@dataclass
class Style:
    """House style of one list file: default formats and per-row quirk rates."""

    date: str = "datetime"
    phone: str = "plain"
    cccd: str = "text"
    caps: float = 0.05
    nfd: float = 0.03
    spaces: float = 0.05
    eth: float = 0.3
    old_tone: float = 0.4
    date_mix: float = 0.04
    phone_mix: float = 0.08
    cccd_missing: float = 0.03
    cmnd9: float = 0.0
    csv: bool = False


DATE_STYLES = ["datetime", "dmyy", "ddmmyyyy", "dash", "dmyyyy", "iso", "ddmmyy"]
PHONE_STYLES = {"plain": None, "num": "phone_num", "dots": "phone_dots", "spaces": "phone_spaces",
                "intl": "phone_intl", "84": "phone_84"}


def format_date(rng: random.Random, person: Person, style: Style, tags: list, birth: dt.date | None = None):
    """Return a date cell in the file's style, sometimes another, and tag what was done."""
    birth = birth or person.list_birth
    kind = style.date
    if kind != "year" and rng.random() < style.date_mix:
        kind = rng.choice([k for k in DATE_STYLES if k != kind and k != "datetime"] + ["year"])
    if person.year_only and kind != "year":
        if rng.random() < 0.5:
            kind = "year"
        else:
            tags.append("jan1_for_year_only")
            birth = dt.date(birth.year, 1, 1)
    if kind == "year":
        tags.append("date_year_only")
        return birth.year if rng.random() < 0.5 and not style.csv else str(birth.year)
    if kind == "datetime":
        if style.csv:
            kind = "ddmmyyyy"
        else:
            return ("datetime", dt.datetime(birth.year, birth.month, birth.day))
    text = {
        "dmyy": f"{birth.day}/{birth.month}/{birth.year % 100:02d}",
        "ddmmyy": f"{birth.day:02d}/{birth.month:02d}/{birth.year % 100:02d}",
        "ddmmyyyy": f"{birth.day:02d}/{birth.month:02d}/{birth.year}",
        "dash": f"{birth.day:02d}-{birth.month:02d}-{birth.year}",
        "dmyyyy": f"{birth.day}/{birth.month}/{birth.year}",
        "iso": birth.isoformat(),
    }[kind]
    if style.csv:
        if kind != style.date:
            tags.append({"dmyy": "date_fmt_dmyy", "ddmmyy": "date_fmt_ddmmyy", "ddmmyyyy": "date_fmt_ddmmyyyy",
                         "dash": "date_fmt_dash", "dmyyyy": "date_fmt_dmyyyy", "iso": "date_fmt_yyyymmdd"}[kind])
    else:
        tags.append("date_text")
    return text


def format_phone(rng: random.Random, phone: str, style: Style, tags: list):
    if not phone:
        return None
    kind = style.phone
    if rng.random() < style.phone_mix:
        kind = rng.choice(list(PHONE_STYLES))
    if kind == "num" and style.csv:
        tags.append("phone_num")
        return phone[1:]
    if PHONE_STYLES[kind]:
        tags.append(PHONE_STYLES[kind])
    rest = phone[1:]
    return {
        "plain": phone,
        "num": int(rest),
        "dots": f"{phone[:4]}.{phone[4:7]}.{phone[7:]}",
        "spaces": f"{phone[:4]} {phone[4:7]} {phone[7:]}",
        "intl": f"+84 {rest[:3]} {rest[3:6]} {rest[6:]}",
        "84": "84" + rest,
    }[kind]


def format_cccd(rng: random.Random, person: Person, style: Style, tags: list, ids: IdMaker):
    if not person.cccd:
        return None
    if rng.random() < style.cccd_missing:
        tags.append("cccd_missing")
        return None
    if person.age >= 55 and rng.random() < style.cmnd9:
        tags.append("cmnd9")
        return ids.cmnd()
    if style.cccd == "num":
        tags.append("cccd_num")
        return person.cccd.lstrip("0") if style.csv else int(person.cccd)
    return person.cccd


def format_name(rng: random.Random, name: str, style: Style, tags: list) -> str:
    """Apply caps, old tone placement, Ð, NFD and stray spaces as a clerk might."""
    if rng.random() < style.old_tone:
        changed = old_tone_style(name)
        if changed != name:
            tags.append("old_tone_style")
            name = changed
    if "Đ" in name and rng.random() < style.eth:
        tags.append("eth")
        name = name.replace("Đ", "\u00d0")
    if rng.random() < style.caps:
        tags.append("caps")
        name = name.upper()
    if rng.random() < style.nfd:
        tags.append("nfd")
        name = unicodedata.normalize("NFD", name)
    if rng.random() < style.spaces:
        tags.append("spaces")
        words = name.split(" ")
        i = rng.randrange(len(words))
        words[i] = words[i] + " "
        name = rng.choice(["", " "]) + " ".join(words) + rng.choice(["", " "])
    return name


def sex_text(rng: random.Random, sex: str, lower_rate: float = 0.0) -> str:
    text = "Nam" if sex == "M" else "Nữ"
    return text.lower() if rng.random() < lower_rate else text


def list_address(rng: random.Random, person: Person, kind: int) -> str:
    """Write a resident address in one of the short forms that groups use."""
    if not person.resident:
        return person.address
    t, h, a, s = person.tdp, person.house_number, person.alley, person.street
    if not a:
        return [f"Số {h} {s}, TDP {t}", f"Số nhà {h}, đường {s}, Tổ dân phố số {t}",
                f"{h} {s} - Tổ {t}", f"Số {h} {s}, tổ dân phố {t}"][kind % 4]
    return [f"Số {h} ngõ {a} TDP {t}", f"Số nhà {h}, ngõ {a}, Tổ dân phố số {t}",
            f"{h}/{a} {s}, TDP{t}", f"Số {h}, ngõ {a}, tổ dân phố {t}"][kind % 4]


# ---------------------------------------------------------------------------
# Writers


class TruthLog:
    """Collects truth rows and per-file row counts."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.rows_per_file: dict[str, int] = {}
        self.rows_per_sheet: dict[str, dict[str, int]] = {}

    def add(self, file: str, sheet: str, row: int, person: Person, tags: list) -> None:
        groups = ";".join(g for g in GROUP_ORDER if g in person.groups)
        self.rows.append((file, sheet, row, person.pid, groups, ";".join(tags)))
        self.rows_per_file[file] = self.rows_per_file.get(file, 0) + 1
        if sheet:
            per_sheet = self.rows_per_sheet.setdefault(file, {})
            per_sheet[sheet] = per_sheet.get(sheet, 0) + 1


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


def strip_one_tone(name: str) -> str:
    words = unicodedata.normalize("NFD", name).split(" ")
    toned = [i for i, w in enumerate(words) if any(c in TONE_MARKS for c in w)]
    if toned:
        i = toned[-1]
        words[i] = "".join(c for c in words[i] if c not in TONE_MARKS)
    return unicodedata.normalize("NFC", " ".join(words))


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


def given_sort_key(person: Person) -> tuple:
    """Sort as Vietnamese class lists do: by given name, then by the whole name."""
    words = person.list_name.split()
    return (strip_accents(words[-1]), strip_accents(person.list_name))


def strip_accents(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


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


def write_population(ward: WardBuilder, out: Path, truth: TruthLog) -> int:
    """Write the police extract of residents aged 14+, with some absent and a few disagreeing."""
    rng = ward.rng
    file = "population.csv"
    disagreements = 0
    with open(out / file, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Số CCCD", "Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ"])
        line = 1
        for household in ward.households:
            for p in household:
                if p.age < 14:
                    continue
                # Residents away for study or work are often missing from the extract.
                if rng.random() < (0.17 if p.age < 30 else 0.03):
                    continue
                tags = []
                name, birth, address = p.full_name, p.birth_text, p.address
                if not p.lookalike and rng.random() < 0.005:
                    kind = rng.choice(["police_dob_day", "police_name_tone", "police_old_address"])
                    if kind == "police_dob_day" and not p.year_only:
                        birth = p.birth.replace(day=rng.choice([d for d in range(1, 29) if d != p.birth.day])).isoformat()
                    elif kind == "police_name_tone" and change_tone(rng, name) != name:
                        name = change_tone(rng, name)
                    elif kind == "police_old_address":
                        other = ward.make_address(rng.randint(1, ward.tdp_count))
                        address = other[4]
                    else:
                        kind = None
                    if kind:
                        tags.append(kind)
                        disagreements += 1
                birth_cell = birth if len(birth) == 4 else "/".join(reversed(birth.split("-")))
                writer.writerow([p.cccd, name, birth_cell, "Nam" if p.sex == "M" else "Nữ", address])
                line += 1
                truth.add(file, "", line, p, tags)
    return disagreements


# ---------------------------------------------------------------------------
# Truth


def write_truth(ward: WardBuilder, out: Path, truth: TruthLog, seed: int, police_disagreements: int) -> dict:
    truth_dir = out / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    with open(truth_dir / "truth.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "sheet", "row", "true_person_id", "groups", "noise"])
        writer.writerows(truth.rows)

    with open(truth_dir / "people.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "full_name", "sex", "birth", "cccd", "groups", "resident", "household_id", "tdp",
                         "relation_to_head", "phone", "parent_name", "parent_phone", "address", "name_in_lists",
                         "birth_in_lists", "variant"])
        for p in ward.people:
            writer.writerow([
                p.pid, p.full_name, p.sex, p.birth_text, p.cccd, ";".join(g for g in GROUP_ORDER if g in p.groups),
                int(p.resident), p.household_id, p.tdp or "", p.relation, p.phone, p.parent_name, p.parent_phone,
                p.address, p.name_in_lists, p.birth_in_lists.isoformat() if p.birth_in_lists else "", p.variant,
            ])

    with open(truth_dir / "lookalikes.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "person_a", "person_b", "name_a", "name_b"])
        for kind, a, b in ward.lookalikes:
            writer.writerow([kind, a.pid, b.pid, a.full_name, b.full_name])

    people = {p.pid: p for p in ward.people}
    list_rows = [r for r in truth.rows if r[0] != "population.csv"]
    listed = {}
    for r in list_rows:
        listed.setdefault(r[3], set()).add(r[0])
    persons_per_group = {g: sum(1 for pid in listed if g in people[pid].groups) for g in GROUP_ORDER}
    residents = [p for p in ward.people if p.resident]
    by_count: dict[str, int] = {}
    for files in listed.values():
        by_count[str(len(files))] = by_count.get(str(len(files)), 0) + 1
    kinds: dict[str, int] = {}
    for kind, _, _ in ward.lookalikes:
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = {
        "seed": seed,
        "residents": len(residents),
        "reference_date": REFERENCE_DATE.isoformat(),
        "to_dan_pho": ward.tdp_count,
        "households": len(ward.households),
        "rows_per_file": dict(sorted(truth.rows_per_file.items())),
        "rows_per_sheet": {f: s for f, s in sorted(truth.rows_per_sheet.items()) if len(s) > 1},
        "rows_total": len(truth.rows),
        "rows_in_invitation_lists": len(list_rows),
        "police_rows": len(truth.rows) - len(list_rows),
        "persons_total": len(ward.people),
        "non_residents": len(ward.people) - len(residents),
        "unique_persons_in_invitation_lists": len(listed),
        "persons_per_group": persons_per_group,
        "population_per_group": {g: sum(1 for p in residents if g in p.groups) for g in GROUP_ORDER},
        "persons_by_number_of_invitation_lists": dict(sorted(by_count.items())),
        "within_file_duplicate_rows": sum(1 for r in list_rows if r[5].startswith("dup_in_file")),
        "cross_list_error_rows": sum(1 for r in list_rows if "xerr_" in r[5]),
        "variant_persons": sum(1 for p in ward.people if p.variant),
        "police_disagreements": police_disagreements,
        "lookalike_pairs": kinds,
        "lookalike_pairs_total": len(ward.lookalikes),
        "age_shares": {
            "under_2": round(sum(1 for p in residents if p.age < 2) / len(residents), 4),
            "3_to_14": round(sum(1 for p in residents if 3 <= p.age <= 14) / len(residents), 4),
            "60_plus": round(sum(1 for p in residents if p.age >= 60) / len(residents), 4),
            "male": round(sum(1 for p in residents if p.sex == "M") / len(residents), 4),
        },
    }
    (truth_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def generate(residents: int, seed: int, out: Path) -> dict:
    """Build the ward and write every list, the police extract and the truth under out."""
    ward = WardBuilder(residents, seed)
    ward.build()
    assign_groups(ward)
    apply_variants(ward)
    lists = out / "lists"
    lists.mkdir(parents=True, exist_ok=True)
    truth = TruthLog()
    write_elderly_lists(ward, lists, truth)
    write_schools(ward, lists, truth)
    write_under2(ward, lists, truth)
    write_poor(ward, lists, truth)
    write_social(ward, lists, truth)
    write_employers(ward, lists, truth)
    disagreements = write_population(ward, out, truth)
    return write_truth(ward, out, truth, seed, disagreements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=3000, help="number of residents in the ward (default 3000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same files")
    parser.add_argument("--out", type=Path, required=True, help="output directory, created if missing")
    args = parser.parse_args()
    if args.residents < 500:
        parser.error(f"--residents must be at least 500, got {args.residents}")
    started = time.perf_counter()
    summary = generate(args.residents, args.seed, args.out)
    print(f"wrote {summary['rows_in_invitation_lists']} list rows and {summary['police_rows']} police rows "
          f"for {summary['residents']} residents to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

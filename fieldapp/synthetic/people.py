"""Synthetic residents: names, ID numbers, phone numbers and birth dates."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field
from importlib import resources

REFERENCE_DATE = dt.date(2025, 10, 15)
WARD = "phường An Lạc"
CITY = "thành phố Hải Phòng"

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

TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


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
    text = (resources.files("fieldapp.data") / "vn-given-names" / f"{kind}.txt").read_text(encoding="utf-8")
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

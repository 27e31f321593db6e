"""Per-list cell formatting with the quirks of real lists: dates, phones, CCCD, names, addresses."""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from dataclasses import dataclass

from fieldapp.synthetic.people import TONE_MARKS, IdMaker, Person

def to_cp1258_decomposed(text: str) -> bytes:
    """Encode text as Windows-1258 with tone marks as separate combining bytes."""
    pieces = []
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        pieces.append(base + tones)
    return "".join(pieces).encode("cp1258")


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


def strip_one_tone(name: str) -> str:
    words = unicodedata.normalize("NFD", name).split(" ")
    toned = [i for i, w in enumerate(words) if any(c in TONE_MARKS for c in w)]
    if toned:
        i = toned[-1]
        words[i] = "".join(c for c in words[i] if c not in TONE_MARKS)
    return unicodedata.normalize("NFC", " ".join(words))


def given_sort_key(person: Person) -> tuple:
    """Sort as Vietnamese class lists do: by given name, then by the whole name."""
    words = person.list_name.split()
    return (strip_accents(words[-1]), strip_accents(person.list_name))


def strip_accents(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()

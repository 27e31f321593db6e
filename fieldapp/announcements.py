"""Announcements of a round for each residential group and school: loudspeaker script and chat message."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

import sqlite_utils

from .distribution import BRING, bundles
from .rounds import get_round

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


def vietnamese_date(day: dt.date) -> str:
    """Return "Thứ Bảy, 12/12/2026"."""
    return f"{WEEKDAYS[day.weekday()]}, {day.strftime('%d/%m/%Y')}"


@dataclass
class Announcement:
    """The texts for one area: when and where to come, who is invited, what to bring."""

    area: str
    people: int
    sessions: list[str]  # "Thứ Bảy, 12/12/2026, 07:00–09:30 tại Trạm Y tế (12 Lê Lợi)"
    fasting: bool
    loudspeaker: str
    chat: str


def announcements(db: sqlite_utils.Database, round_id: str) -> list[Announcement]:
    """Return one announcement per residential group or class of the round's invitations."""
    found = get_round(db, round_id)
    texts = []
    for bundle in bundles(db, round_id):
        spans: dict[tuple, list[str]] = defaultdict(list)
        for slip in bundle.slips:
            spans[(slip.date, slip.site_name, slip.site_address)].append(slip.slot_start)
            spans[(slip.date, slip.site_name, slip.site_address)].append(slip.slot_end)
        sessions = [
            f"{vietnamese_date(day)}, {min(times)}–{max(times)} tại {site} ({address})"
            for (day, site, address), times in sorted(spans.items())
        ]
        fasting = any(slip.fasting for slip in bundle.slips)
        texts.append(Announcement(bundle.area, len(bundle.slips), sessions, fasting,
                                 _loudspeaker(found, bundle.area, len(bundle.slips), sessions, fasting),
                                 _chat(found, bundle.area, sessions, fasting)))
    return texts


def _bring_text(fasting: bool) -> str:
    # Lower only the first letter, so that "VNeID" keeps its spelling inside a sentence.
    text = ", ".join(item[0].lower() + item[1:] for item in BRING)
    if fasting:
        text += ". Người lớn nhịn ăn sáng để xét nghiệm đường huyết"
    return text


def _loudspeaker(found: dict, area: str, people: int, sessions: list[str], fasting: bool) -> str:
    when = "; ".join(sessions)
    return (
        f"Thông báo của {found['station']}. "
        f"{found['station']} tổ chức khám sức khỏe miễn phí cho người dân {area}. "
        f"Có {people} người được mời; mỗi người đã nhận giấy mời ghi rõ ngày, giờ và nơi khám. "
        f"Thời gian và địa điểm: {when}. "
        f"Khi đi khám, xin mang theo giấy mời và {_bring_text(fasting)}. "
        "Xin đến đúng khung giờ ghi trên giấy mời để không phải chờ lâu. "
        "Người cao tuổi, người khuyết tật và trẻ nhỏ được ưu tiên. Xin trân trọng thông báo."
    )


def _chat(found: dict, area: str, sessions: list[str], fasting: bool) -> str:
    lines = [f"📢 {found['station']}: khám sức khỏe miễn phí cho {area}."]
    lines += [f"🗓 {session}" for session in sessions]
    lines.append(f"🎒 Mang theo: giấy mời, {_bring_text(fasting)}.")
    lines.append("⏰ Xin đến đúng khung giờ ghi trên giấy mời.")
    return "\n".join(lines)

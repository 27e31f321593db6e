"""The content of one printed invitation slip and of a distribution bundle with its cover list."""

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class Slip:
    """One invitation slip: everything printed on it. The QR code and barcode hold only `token`."""

    token: str
    short_code: str
    full_name: str
    birth_year: str
    area: str  # "Tổ dân phố 3" or "Lớp 6A": where the slip is handed out
    group_label: str  # e.g. "Nhóm 2: Người cao tuổi"
    date: dt.date
    slot_start: str  # "07:30"
    slot_end: str  # "08:00"
    site_name: str
    site_address: str
    ward: str  # "Phường An Lạc"
    station: str  # "Trạm Y tế phường An Lạc"
    title: str  # "GIẤY MỜI KHÁM SỨC KHỎE MIỄN PHÍ NĂM 2026"
    bring: list[str] = field(default_factory=list)  # what to bring, one line each
    fasting: bool = False  # glucose is planned: come without breakfast


@dataclass
class Bundle:
    """The slips for one residential group or class, with the cover list its leader signs on receipt."""

    area: str
    leader_title: str  # "Tổ trưởng tổ dân phố" or "Giáo viên chủ nhiệm"
    slips: list[Slip]

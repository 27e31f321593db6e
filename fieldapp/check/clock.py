"""The laptop's clock, compared with times already stored on the laptop, because there is no internet to ask.

A laptop whose clock battery is dead starts in a year like 2000 or 2010. Slips, ages, check-in times and
the HTTPS certificates all read this clock, so the officer must set it before an exam day.
"""

import datetime as dt

from flask_babel import gettext as _

from .result import OK, WARNING, Result, format_date, format_time

# The date of this version in CHANGELOG.md (0.1.0); update it with each release. A clock before it is wrong.
# tests/test_check.py compares it with the changelog entry of pyproject.toml's version.
RELEASE_DATE = dt.date(2026, 12, 4)
# A clock that runs fast goes back by its accumulated drift when it next synchronises. That is minutes at most
# (an estimate: a 20 ppm quartz clock drifts under 2 s a day), so a larger step back was made by hand or by a
# dead clock battery.
BEHIND_TOLERANCE = dt.timedelta(minutes=5)
# Rounds are yearly, so a laptop in use writes records at least once a year. More than a year and a month
# after the newest record, the clock is more likely wrong than the laptop unused.
AHEAD_LIMIT = dt.timedelta(days=400)


def _set_clock_hint() -> str:
    return _("Đặt lại ngày giờ trước ngày khám, trong Cài đặt > Thời gian và ngôn ngữ > Ngày và giờ (Windows) hoặc "
             "Cài đặt > Ngày và giờ (Linux), vì giấy mời, tuổi và thời điểm của mọi bản ghi đều theo đồng hồ này.")


def check_clock(now: dt.datetime, newest_record: dt.datetime | None, not_before: list[dt.datetime],
                release: dt.date = RELEASE_DATE) -> Result:
    """Warn when now is before the release date, the newest record or a certificate's start, or far after the newest record.

    now and the other times are timezone-aware. not_before are the certificates' notBefore times, which
    fieldapp/tls.py sets an hour before it issues them.
    """
    title = _("Đồng hồ")
    details = {"now": now.astimezone(dt.UTC).isoformat(), "release_date": release.isoformat(),
               "newest_record": newest_record.isoformat() if newest_record else None,
               "certificates_not_before": [moment.isoformat() for moment in not_before]}
    references = [(_("ngày phát hành phiên bản fieldapp này"), format_date(release))]
    if newest_record is not None:
        references.append((_("bản ghi mới nhất trong cơ sở dữ liệu"), format_time(newest_record)))
    if not_before:
        references.append((_("lúc chứng chỉ HTTPS bắt đầu có hiệu lực"), format_time(max(not_before))))
    reasons = []
    if now.astimezone(dt.UTC).date() < release:
        reasons.append(references[0])
    if newest_record is not None and now < newest_record - BEHIND_TOLERANCE:
        reasons.append(references[1])
    starts = [moment for moment in not_before if now < moment]
    if starts:
        reasons.append((_("lúc chứng chỉ HTTPS bắt đầu có hiệu lực"), format_time(min(starts))))
    found = _("máy đang chỉ %(time)s", time=format_time(now))

    if reasons:
        return Result("clock", WARNING, title, _("%(found)s, sớm hơn %(references)s.", found=found,
                                                 references=_listed(reasons)), _set_clock_hint(), details)
    if newest_record is not None and now > newest_record + AHEAD_LIMIT:
        return Result("clock", WARNING, title,
                      _("%(found)s, muộn hơn bản ghi mới nhất (%(time)s) hơn %(days)s ngày.", found=found,
                        time=format_time(newest_record), days=AHEAD_LIMIT.days),
                      _set_clock_hint() + " " + _("Nếu máy không được dùng từ ngày đó thì bỏ qua cảnh báo này."),
                      details)
    return Result("clock", OK, title,
                  _("%(found)s, không sớm hơn %(references)s. Không có mạng để so, nên hãy so với đồng hồ điện thoại.",
                    found=found, references=_listed(references)), details=details)


def _listed(references: list[tuple[str, str]]) -> str:
    """Return "what (when); what (when)" for the reference times named in a message."""
    return "; ".join(f"{name} ({when})" for name, when in references)

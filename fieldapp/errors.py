"""The catalogue of user-facing problems: a stable code, a Vietnamese message naming the value, a hint.

Messages are written in Vietnamese, the source language of the translation catalogue;
English comes from translations/en. Every code here is listed in docs/errors.md.
"""

from flask_babel import lazy_gettext as _l

# code: (message, hint). Messages may use {file}, {sheet}, {row}, {field} and {value}.
CATALOGUE = {
    # Whole files.
    "file_empty": (_l("Tệp {file} trống."), _l("Mở tệp trong Excel, kiểm tra đã lưu danh sách, rồi nhập lại.")),
    "file_too_large": (
        _l("Tệp {file} quá lớn ({value}); danh sách tối đa 64 MB."),
        _l("Kiểm tra có chọn nhầm tệp không; nếu đúng, chia danh sách thành nhiều tệp."),
    ),
    "file_is_pdf": (
        _l("Tệp {file} là tệp PDF, không phải bảng tính."),
        _l("Xin đơn vị gửi bản Excel (.xlsx) hoặc CSV của danh sách."),
    ),
    "file_old_xls": (
        _l("Tệp {file} là định dạng Excel cũ (.xls)."),
        _l("Mở tệp trong Excel, chọn Lưu thành > Sổ làm việc Excel (.xlsx), rồi nhập tệp mới."),
    ),
    "file_encrypted": (
        _l("Tệp {file} có đặt mật khẩu nên không đọc được."),
        _l("Mở tệp bằng mật khẩu, bỏ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc), lưu lại rồi nhập."),
    ),
    "file_not_spreadsheet": (
        _l("Tệp {file} không phải bảng tính Excel (.xlsx) hay CSV."),
        _l("Chọn đúng tệp danh sách; nếu tệp mở được trong Excel, lưu lại thành .xlsx rồi nhập."),
    ),
    "csv_encoding_unknown": (
        _l("Không nhận ra bảng mã của tệp CSV {file} (đã thử UTF-8 và Windows-1258)."),
        _l("Mở tệp trong Excel, chọn Lưu thành > CSV UTF-8, rồi nhập lại."),
    ),
    "no_header": (
        _l("Không tìm thấy dòng tiêu đề cột trong {file}{sheet}."),
        _l("Dòng tiêu đề cần có ít nhất cột Họ và tên và một cột như Ngày sinh, Giới tính, CCCD."),
    ),
    "no_name_column": (
        _l("Không có cột họ tên trong {file}{sheet}."),
        _l("Thêm cột 'Họ và tên' (hoặc hai cột 'Họ đệm' và 'Tên'), hoặc chỉ định cột ở trang xem trước."),
    ),
    "no_rows": (
        _l("Tệp {file} không có dòng dữ liệu nào dưới dòng tiêu đề."),
        _l("Kiểm tra tệp đã có danh sách người chưa."),
    ),
    "group_invalid": (
        _l("Nhóm {value} không hợp lệ."),
        _l("Chọn nhóm từ 1 đến 8 theo kế hoạch của phường."),
    ),
    "file_not_found": (_l("Không tìm thấy tệp {file}."), _l("Kiểm tra đường dẫn và tên tệp.")),
    "file_not_imported": (_l("Chưa nhập tệp nào tên {file}."), _l("Xem tên các tệp đã nhập ở mục Nhập danh sách.")),
    "export_format": (
        _l("Không xuất được ra {file}: chỉ hỗ trợ .csv và .xlsx."),
        _l("Đặt tên tệp kết thúc bằng .csv hoặc .xlsx."),
    ),
    # Rounds, sites and invitations.
    "round_name_missing": (_l("Đợt khám cần có tên."), _l("Đặt tên, ví dụ: Khám sức khỏe người cao tuổi đợt 1.")),
    "round_exists": (_l("Đã có đợt khám tên '{value}'."), _l("Chọn tên khác, hoặc mở đợt khám đã có.")),
    "round_days_invalid": (_l("Số ngày khám '{value}' không hợp lệ."), _l("Một đợt khám kéo dài từ 1 đến 60 ngày.")),
    "round_date_invalid": (_l("Ngày bắt đầu '{value}' không hợp lệ."), _l("Ghi ngày theo dạng năm-tháng-ngày, ví dụ 2026-12-12.")),
    "round_no_site": (_l("Đợt khám '{value}' chưa có điểm khám nào."), _l("Thêm ít nhất một điểm khám: tên, địa chỉ, số người mỗi khung giờ.")),
    "round_not_found": (_l("Không tìm thấy đợt khám '{value}'."), _l("Kiểm tra tên đợt khám (xem danh sách đợt khám).")),
    "site_invalid": (
        _l("Điểm khám '{value}' không hợp lệ."),
        _l("Mỗi điểm khám cần tên, địa chỉ và số người mỗi khung giờ lớn hơn 0 (trên dòng lệnh: \"Trạm Y tế|12 Lê Lợi|20\")."),
    ),
    "site_not_found": (_l("Không tìm thấy điểm khám '{value}'."), _l("Các điểm khám của đợt này: {field}.")),
    "rule_invalid": (_l("Cách chọn người '{value}' không hợp lệ."), _l("Chọn theo nhóm, danh sách, tổ dân phố hoặc lớp.")),
    "invite_nothing_selected": (
        _l("Chưa chọn ai để mời."),
        _l("Chọn mọi người, hoặc một nhóm, danh sách, tổ dân phố hay lớp (trên dòng lệnh: --all, --group, --list, --tdp, --class)."),
    ),
    "person_not_invited": (_l("Người này chưa có giấy mời trong đợt này."), _l("Mời người này trước, rồi in lại giấy mời.")),
    "person_no_slot": (
        _l("Người này đã được mời nhưng chưa có khung giờ, nên chưa in được giấy mời."),
        _l("Thêm ngày, thêm điểm khám hoặc tăng số người mỗi khung giờ, rồi in lại."),
    ),
    "slips_none": (_l("Chưa có giấy mời nào có khung giờ để in."), _l("Mời người vào đợt khám trước, rồi in giấy mời.")),
    "date_not_in_round": (_l("Ngày {value} không phải ngày khám của điểm này."), _l("Chọn một ngày khám của đợt.")),
    "slot_full": (_l("Khung giờ {value} đã đủ người."), _l("Chọn khung giờ khác còn chỗ.")),
    # Rows that are left out.
    "row_no_name": (
        _l("{file}{sheet}, dòng {row}: thiếu họ tên."),
        _l("Điền họ tên cho dòng này, hoặc xóa dòng nếu thừa, rồi nhập lại tệp."),
    ),
    "row_birth_date_invalid": (
        _l("{file}{sheet}, dòng {row}: ngày sinh '{value}' không hợp lệ."),
        _l("Sửa thành ngày/tháng/năm (vd 05/03/1958) hoặc chỉ năm sinh (vd 1958), rồi nhập lại tệp."),
    ),
    # Warnings kept on imported rows.
    "cccd_zero_restored": (_l("Số CCCD mất số 0 đầu, đã thêm lại: {value}."), ""),
    "cccd_invalid": (
        _l("Số CCCD/CMND '{value}' không đủ 12 (hoặc 9) chữ số nên không lưu."),
        _l("Kiểm tra lại số trên thẻ căn cước."),
    ),
    "cccd_province_unknown": (
        _l("Số CCCD {value} có mã tỉnh không có trong danh mục."),
        _l("Kiểm tra 3 chữ số đầu của số CCCD."),
    ),
    "cccd_century_invalid": (
        _l("Số CCCD {value} có chữ số thứ tư (thế kỷ, giới tính) không hợp lệ."),
        _l("Kiểm tra lại số CCCD."),
    ),
    "cccd_birth_year_mismatch": (
        _l("Số CCCD {value} không khớp năm sinh."),
        _l("Số CCCD chứa 2 số cuối năm sinh (chữ số 5–6); kiểm tra ngày sinh hoặc số CCCD."),
    ),
    "cccd_sex_mismatch": (
        _l("Số CCCD {value} không khớp giới tính."),
        _l("Chữ số thứ tư của CCCD chẵn là nam, lẻ là nữ; kiểm tra giới tính hoặc số CCCD."),
    ),
    "phone_invalid": (
        _l("Số điện thoại '{value}' không hợp lệ nên không lưu."),
        _l("Số di động có 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09."),
    ),
    "sex_unknown": (_l("Không rõ giới tính '{value}'."), _l("Ghi Nam hoặc Nữ.")),
    "sex_from_cccd": (_l("Thiếu giới tính; đã lấy theo số CCCD."), ""),
    "birth_missing": (_l("Thiếu ngày sinh."), _l("Bổ sung ngày sinh hoặc năm sinh.")),
    "birth_two_digit_year": (
        _l("Năm sinh ghi 2 chữ số, đã hiểu là: {value}."),
        _l("Kiểm tra lại nếu người này trên 100 tuổi."),
    ),
    "birth_first_of_january": (
        _l("Ngày sinh 01/01 có thể chỉ là năm sinh."),
        _l("Nếu chỉ biết năm sinh, ghi năm (vd 1945) thay cho 01/01/1945."),
    ),
    "legacy_tcvn3": (_l("Chữ mã TCVN3 (.VnTime) đã chuyển sang Unicode."), ""),
    "legacy_vni": (_l("Chữ mã VNI đã chuyển sang Unicode."), ""),
    "name_placeholder": (
        _l("Họ tên '{value}' là tên tạm (trẻ chưa đặt tên)."),
        _l("Cập nhật tên khi gia đình đã đặt tên cho trẻ."),
    ),
}


class FieldappError(Exception):
    """A problem the user can fix, rendered from the catalogue by code."""

    status = 400

    def __init__(self, code: str, **fields: object):
        super().__init__(code)
        self.code = code
        self.fields = fields

    @property
    def message(self) -> str:
        return render(self.code, **self.fields)

    @property
    def hint(self) -> str:
        return str(CATALOGUE[self.code][1])


class FileProblem(FieldappError):
    """A file that cannot be imported at all."""

    status = 422


def render(code: str, **fields: object) -> str:
    """Return the catalogue message for a code with its fields filled in."""
    values = {"file": "", "sheet": "", "row": "", "field": "", "value": ""}
    values.update({key: "" if value is None else value for key, value in fields.items()})
    if values["sheet"]:
        values["sheet"] = " " + str(_l("(trang {sheet})")).format(sheet=values["sheet"])
    return str(CATALOGUE[code][0]).format(**values)


def hint(code: str) -> str:
    """Return the catalogue hint for a code."""
    return str(CATALOGUE[code][1])

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
    # Check-in at the door.
    "checkin_not_ours": (
        _l("Mã vừa quét không phải giấy mời hay thẻ căn cước."),
        _l("Quét mã QR hoặc mã vạch trên giấy mời, hoặc mã QR trên thẻ căn cước; hoặc tìm theo tên."),
    ),
    "checkin_code_mistyped": (
        _l("Mã '{value}' bị gõ sai: một chữ số không đúng hoặc hai chữ số bị đảo chỗ."),
        _l("Gõ lại 24 chữ số in dưới mã QR trên giấy mời, hoặc quét mã QR."),
    ),
    "checkin_code_length": (
        _l("Mã '{value}' có {field} chữ số; mã trên giấy mời có 24 chữ số."),
        _l("Gõ lại đủ 6 nhóm, mỗi nhóm 4 chữ số, hoặc quét mã QR."),
    ),
    "checkin_token_unknown": (
        _l("Không có giấy mời nào mang mã {value}."),
        _l("Giấy mời có thể của phường khác; tìm người này theo tên hoặc đăng ký tại chỗ."),
    ),
    "checkin_token_void": (
        _l("Giấy mời của {value} đã bị hủy vì đã cấp lại giấy mời mới."),
        _l("Xin người khám giấy mời cấp lại; nếu không mang theo, tìm theo tên rồi đón tiếp."),
    ),
    "checkin_token_other_round": (
        _l("Giấy mời này thuộc đợt khám khác: {value}."),
        _l("Người này không được mời trong đợt đang đón tiếp; tìm theo tên hoặc đăng ký tại chỗ."),
    ),
    "checkin_other_site": (
        _l("Người này được hẹn khám ở điểm khác: {value}."),
        _l("Vẫn đón tiếp ở đây nếu người khám muốn: bấm xác nhận khám tại điểm này."),
    ),
    "checkin_not_invited": (
        _l("Người này chưa có giấy mời trong đợt khám này."),
        _l("Vẫn có thể đón tiếp nếu người này thuộc diện được khám."),
    ),
    "checkin_already": (
        _l("Người này đã được đón tiếp hôm nay, số thứ tự {value}."),
        _l("Không tạo lượt mới; hướng dẫn người khám theo số thứ tự đã có."),
    ),
    "checkin_card_not_on_roster": (
        _l("{value} chưa có trong danh sách."),
        _l("Kiểm tra thông tin từ thẻ căn cước, chọn nhóm rồi đăng ký tại chỗ."),
    ),
    "checkin_no_desk": (
        _l("Chưa chọn đợt khám và điểm khám cho bàn đón tiếp này."),
        _l("Chọn điểm khám đang mở hôm nay."),
    ),
    "checkin_consent_missing": (
        _l("Chưa ghi nhận sự đồng ý khám và xử lý dữ liệu sức khỏe."),
        _l("Đọc thông báo cho người khám, rồi đánh dấu ô đồng ý."),
    ),
    "checkin_guardian_missing": (
        _l("Người khám dưới 16 tuổi ({value} tuổi): cần họ tên cha, mẹ hoặc người giám hộ đồng ý."),
        _l("Ghi họ tên người giám hộ đi cùng và chọn người giám hộ đồng ý."),
    ),
    "checkin_assent_missing": (
        _l("Trẻ {value} tuổi: cần cả trẻ đồng ý."),
        _l("Giải thích cho trẻ về buổi khám, rồi đánh dấu ô trẻ đồng ý."),
    ),
    # Exam stations and triage.
    "station_desk_closed": (
        _l("Bàn {value} đang đóng nên không gọi được."),
        _l("Mở bàn ở màn hình điều phối, rồi gọi lại."),
    ),
    "station_task_changed": (
        _l("Số {value} không còn ở bàn này (có thể máy khác vừa xử lý)."),
        _l("Xem lại danh sách đang chờ rồi làm lại."),
    ),
    "station_move_invalid": (
        _l("Không chuyển được số {value} sang {field}: người này đã xong ở đó."),
        _l("Chọn bàn khác, hoặc để người này ở hàng đang chờ."),
    ),
    "station_bring_back_invalid": (
        _l("Số {value} không cần đưa trở lại: người này đang ở hàng chờ hoặc đã khám xong."),
        _l("Tải lại màn hình điều phối để xem hàng chờ mới nhất."),
    ),
    "voice_espeak_missing": (
        _l("Không tìm thấy chương trình espeak-ng nên không tạo được âm thanh đọc số."),
        _l("Cài espeak-ng (Debian, Ubuntu: sudo apt install espeak-ng; Windows: bộ cài trên trang GitHub của "
           "espeak-ng), hoặc chép thư mục voice từ máy đã tạo. Khi chưa có, màn hình gọi số dùng giọng đọc "
           "của trình duyệt hoặc tiếng chuông."),
    ),
    "voice_render_failed": (
        _l("Không tạo được âm thanh đọc số: {value}."),
        _l("Chạy lại lệnh; nếu vẫn lỗi, cài lại espeak-ng. Trong lúc đó màn hình gọi số dùng giọng đọc của "
           "trình duyệt hoặc tiếng chuông."),
    ),
    "triage_no_flags": (
        _l("Chưa chọn dấu hiệu nguy hiểm nào."),
        _l("Chọn ít nhất một dấu hiệu; với dấu hiệu khác, chọn Khác và ghi rõ."),
    ),
    "triage_visit_finished": (
        _l("Số {value} đã khám xong ở mọi bàn, không còn ở hàng chờ nào."),
        _l("Đưa người này đến bác sĩ ngay và báo người điều phối."),
    ),
    "walkin_name_missing": (_l("Thiếu họ tên người đăng ký."), _l("Ghi họ và tên như trên thẻ căn cước.")),
    "walkin_birth_invalid": (
        _l("Ngày sinh '{value}' không hợp lệ."),
        _l("Ghi ngày/tháng/năm (vd 05/03/1958) hoặc chỉ năm sinh (vd 1958)."),
    ),
    "walkin_sex_missing": (_l("Chưa chọn giới tính."), _l("Chọn Nam hoặc Nữ.")),
    "walkin_cccd_invalid": (
        _l("Số CCCD/CMND '{value}' không đủ 12 (hoặc 9) chữ số."),
        _l("Kiểm tra lại số trên thẻ căn cước, hoặc để trống."),
    ),
    "walkin_phone_invalid": (
        _l("Số điện thoại '{value}' không hợp lệ."),
        _l("Số di động có 10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09; hoặc để trống."),
    ),
    "school_none_selected": (_l("Chưa chọn học sinh nào."), _l("Đánh dấu các em có mặt, rồi bấm đón tiếp.")),
    "school_consent_missing": (
        _l("Chưa xác nhận phụ huynh đã đồng ý qua nhà trường và các em đồng ý."),
        _l("Ghi họ tên giáo viên đi cùng lớp và đánh dấu ô xác nhận."),
    ),
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
    "formulas_without_values": (
        _l("Tệp {file} có {value} ô công thức chưa lưu giá trị, nên các ô đó được đọc là ô trống."),
        _l("Mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi nhập lại."),
    ),
    "legacy_tcvn3": (_l("Chữ mã TCVN3 (.VnTime) đã chuyển sang Unicode."), ""),
    "legacy_vni": (_l("Chữ mã VNI đã chuyển sang Unicode."), ""),
    "name_placeholder": (
        _l("Họ tên '{value}' là tên tạm (trẻ chưa đặt tên)."),
        _l("Cập nhật tên khi gia đình đã đặt tên cho trẻ."),
    ),
    # Sign-in, staff accounts and paired devices.
    "sign_in_failed": (
        _l("Tên đăng nhập hoặc mã PIN không đúng."),
        _l("Kiểm tra lại rồi thử lần nữa. Nhập sai mã PIN 5 lần liên tiếp thì tài khoản bị khóa 15 phút."),
    ),
    "account_locked": (
        _l("Tài khoản bị khóa đến {value} vì nhập sai mã PIN 5 lần liên tiếp."),
        _l("Thử lại sau giờ đó, hoặc nhờ quản trị viên đặt lại mã PIN để mở khóa ngay."),
    ),
    "sign_in_throttled": (
        _l("Thiết bị này đã nhập sai quá nhiều lần nên tạm dừng đăng nhập đến {value}."),
        _l("Chờ đến giờ đó rồi thử lại. Nếu quên mã PIN, nhờ quản trị viên đặt lại."),
    ),
    "device_not_paired": (
        _l("Điện thoại này chưa được ghép với máy chủ của điểm khám, hoặc đã bị thu hồi."),
        _l("Nhờ quản trị viên mở trang Thiết bị trên máy tính, bấm Ghép điện thoại mới, rồi quét mã QR bằng điện thoại này."),
    ),
    "pairing_token_unknown": (
        _l("Mã ghép điện thoại không đúng."),
        _l("Quét lại mã QR trên máy tính, hoặc nhờ quản trị viên tạo mã ghép mới."),
    ),
    "pairing_token_used": (
        _l("Mã ghép này đã được dùng."),
        _l("Mỗi mã QR chỉ ghép được một điện thoại. Nhờ quản trị viên tạo mã ghép mới."),
    ),
    "pairing_token_expired": (
        _l("Mã ghép đã hết hạn: mỗi mã chỉ dùng được trong 5 phút."),
        _l("Nhờ quản trị viên tạo mã ghép mới rồi quét ngay."),
    ),
    "device_name_missing": (
        _l("Thiết bị cần có tên."),
        _l("Đặt tên dễ nhận ra, ví dụ: Điện thoại bàn đón tiếp 1."),
    ),
    "staff_name_missing": (
        _l("Tài khoản cần có họ tên người dùng (tối đa 100 ký tự)."),
        _l("Ghi họ tên hiện trên màn hình, ví dụ: Nguyễn Thị Lan."),
    ),
    "username_invalid": (
        _l("Tên đăng nhập '{value}' không hợp lệ."),
        _l("Dùng 2 đến 32 chữ cái không dấu, chữ số hoặc dấu . _ -, bắt đầu bằng chữ hoặc số, ví dụ: lan.nt"),
    ),
    "username_exists": (_l("Tên đăng nhập '{value}' đã có."), _l("Chọn tên đăng nhập khác.")),
    "role_invalid": (
        _l("Vai trò '{value}' không hợp lệ."),
        _l("Chọn một vai trò: đón tiếp, bàn khám, bác sĩ, điều phối hoặc quản trị điểm khám."),
    ),
    "pin_invalid": (
        _l("Mã PIN phải gồm 4 đến 12 chữ số."),
        _l("Chọn mã người dùng nhớ được nhưng khó đoán: tránh 1234, 0000 hay ngày sinh."),
    ),
    "staff_disable_self": (
        _l("Không thể khóa tài khoản đang đăng nhập."),
        _l("Nhờ một quản trị viên khác khóa, hoặc dùng lệnh fieldapp user disable trên máy tính."),
    ),
    "staff_not_found": (
        _l("Không tìm thấy tài khoản '{value}'."),
        _l("Xem các tài khoản bằng lệnh fieldapp user list."),
    ),
    # Observations and results files.
    "observation_not_found": (
        _l("Không tìm thấy kết quả đo {value}."),
        _l("Tải lại trang rồi thử lại."),
    ),
    "entry_emergency_failed": (
        _l("Chưa lưu kết quả của số {value}: không chuyển được người này lên hàng cấp cứu."),
        _l("Kết quả có dấu hiệu nguy hiểm: đưa người này đến bác sĩ ngay và báo người điều phối, rồi bấm Lưu lại."),
    ),
    "observation_not_current": (
        _l("Kết quả {value} vừa được người khác sửa."),
        _l("Tải lại trang để xem giá trị mới nhất, rồi sửa nếu vẫn cần."),
    ),
    "observation_needs_reason": (
        _l("Sửa kết quả {value} cần ghi lý do."),
        _l("Ghi ngắn gọn vì sao sửa, ví dụ: gõ nhầm, đo lại."),
    ),
    "conclusion_not_current": (
        _l("Kết luận vừa được người khác sửa."),
        _l("Tải lại trang để xem kết luận mới nhất, rồi sửa nếu vẫn cần."),
    ),
    "conclusion_needs_reason": (
        _l("Sửa kết luận đã lưu cần ghi lý do."),
        _l("Ghi ngắn gọn vì sao sửa, ví dụ: thêm chẩn đoán, xem lại kết quả đo."),
    ),
    "results_columns_missing": (
        _l("Tệp {file} thiếu cột {value}."),
        _l("Tệp kết quả cần các cột person_id, item, value; có thể thêm unit và measured_at."),
    ),
    "results_no_round": (
        _l("Chưa có đợt khám nào để ghi kết quả."),
        _l("Lập đợt khám trước (fieldapp round create), rồi nhập lại tệp kết quả."),
    ),
    "results_person_unknown": (
        _l("Dòng {row}: không có người nào mã {value} trong danh sách."),
        _l("Kiểm tra cột person_id: dùng mã người trong tệp xuất danh sách của fieldapp."),
    ),
    "results_item_unknown": (
        _l("Dòng {row}: không biết mục kết quả '{value}'."),
        _l("Dùng một mã mục trong docs/items.md, ví dụ bp_systolic, weight_kg, glucose_fasting_mmol."),
    ),
    "results_item_derived": (
        _l("Dòng {row}: mục {value} do phần mềm tự tính, không nhập được."),
        _l("Bỏ cột này; phần mềm tính lại từ chiều cao, cân nặng, huyết áp và ngày sinh."),
    ),
    "results_unit_wrong": (
        _l("Dòng {row}: đơn vị {value} không đúng với mục này."),
        _l("Đổi giá trị sang đơn vị trong docs/items.md, hoặc bỏ trống cột unit."),
    ),
    "results_value_refused": (
        _l("Dòng {row}: {value}"),
        _l("Sửa giá trị trong tệp rồi nhập lại; những dòng đúng đã được lưu."),
    ),
    "results_date_invalid": (
        _l("Dòng {row}: thời điểm đo '{value}' không đọc được."),
        _l("Ghi measured_at dạng yyyy-mm-dd hoặc yyyy-mm-dd hh:mm, ví dụ 2026-10-15 08:30."),
    ),
    # ICD-10 code list, the doctor's page and advice templates.
    "icd10_columns_missing": (
        _l("Tệp {file} không có cột mã và cột tên bệnh."),
        _l("Dòng tiêu đề cần hai cột tên là code và title (hoặc Mã bệnh và Tên bệnh)."),
    ),
    "icd10_code_invalid": (
        _l("Dòng {row}: mã ICD-10 '{value}' không hợp lệ."),
        _l("Mã gồm một chữ cái, hai chữ số, có thể thêm dấu chấm và một hoặc hai ký tự, ví dụ I10, E11.9."),
    ),
    "icd10_title_invalid": (
        _l("Dòng {row}: mã {value} chưa có tên bệnh, hoặc tên dài quá 300 ký tự."),
        _l("Ghi tên bệnh tiếng Việt vào cột tên bệnh."),
    ),
    "icd10_code_duplicate": (
        _l("Dòng {row}: mã {value} đã có ở dòng trước với tên bệnh khác."),
        _l("Giữ một dòng cho mỗi mã rồi nạp lại tệp."),
    ),
    "icd10_file_empty": (
        _l("Tệp {file} không có mã ICD-10 nào dưới dòng tiêu đề."),
        _l("Kiểm tra đã chọn đúng tệp danh mục."),
    ),
    "icd10_code_unknown": (
        _l("Không có mã ICD-10 '{value}' trong danh mục."),
        _l("Tìm bệnh theo tên hoặc theo mã ở ô tìm kiếm rồi chọn trong danh sách."),
    ),
    "doctor_text_too_long": (
        _l("Ô {field} quá dài: tối đa {value} ký tự."),
        _l("Rút gọn nội dung."),
    ),
    "doctor_referral_incomplete": (
        _l("Chuyển khám cần ghi cả nơi chuyển đến và lý do chuyển."),
        _l("Ghi đủ cả hai ô, hoặc để trống cả hai nếu không chuyển khám."),
    ),
    "doctor_next_exam_invalid": (
        _l("Ngày khám lại '{value}' không hợp lệ."),
        _l("Chọn một ngày sau ngày khám, trong vòng 5 năm."),
    ),
    "doctor_conclusion_missing": (
        _l("Chưa lưu kết luận nên chưa hoàn tất khám được."),
        _l("Ghi kết luận rồi bấm Lưu kết luận trước."),
    ),
    "doctor_health_class_missing": (
        _l("Người lao động cần được phân loại sức khỏe trước khi hoàn tất khám."),
        _l("Chọn loại sức khỏe từ I đến V, bấm Lưu bản sửa, rồi bấm Hoàn tất khám."),
    ),
    "doctor_task_not_called": (
        _l("Số {value} chưa được gọi vào bàn bác sĩ."),
        _l("Gọi người này ở màn hình bàn khám của bác sĩ, rồi bấm Hoàn tất khám."),
    ),
    "advice_template_incomplete": (
        _l("Mẫu lời khuyên cần có tên và nội dung."),
        _l("Đặt tên ngắn, ví dụ: Tăng huyết áp: ăn nhạt, rồi ghi nội dung lời khuyên."),
    ),
    "advice_template_too_long": (
        _l("Mẫu lời khuyên quá dài: tên tối đa 100 ký tự, nội dung tối đa 2000 ký tự."),
        _l("Rút gọn tên hoặc nội dung."),
    ),
    "advice_template_exists": (
        _l("Đã có mẫu lời khuyên tên '{value}'."),
        _l("Đặt tên khác, hoặc sửa mẫu đã có."),
    ),
    # Result sheets, referral notes and the follow-up list.
    "sheet_not_concluded": (
        _l("Lượt khám này chưa có kết luận của bác sĩ nên chưa in được phiếu."),
        _l("Bác sĩ ghi kết luận ở trang khám của bác sĩ, rồi in lại."),
    ),
    "sheet_option_invalid": (
        _l("Lựa chọn in '{value}' không hợp lệ."),
        _l("Khổ giấy là A4 hoặc A5; bản in là person (cho người khám) hoặc parents (cho cha mẹ)."),
    ),
    "sheet_parents_children_only": (
        _l("Phiếu gửi cha mẹ chỉ dành cho học sinh và trẻ dưới 36 tháng."),
        _l("In phiếu kết quả thường cho người lớn."),
    ),
    "referral_missing": (
        _l("Bác sĩ không chỉ định chuyển khám cho lượt khám này."),
        _l("Nếu cần chuyển khám, bác sĩ ghi nơi chuyển và lý do ở phần kết luận, rồi in giấy chuyển."),
    ),
    "sheets_none": (
        _l("Ngày {value} không có lượt khám nào đã có kết luận của bác sĩ."),
        _l("Kiểm tra lại ngày khám; phiếu chỉ in cho người đã được bác sĩ kết luận."),
    ),
    "day_invalid": (
        _l("Ngày '{value}' không hợp lệ."),
        _l("Ghi ngày dạng năm-tháng-ngày, ví dụ 2026-12-12."),
    ),
    # Sync with the central store.
    "sync_url_invalid": (
        _l("Địa chỉ kho dữ liệu trung tâm '{value}' không hợp lệ."),
        _l("Ghi đủ địa chỉ, bắt đầu bằng https://, ví dụ https://kho.yte.example.vn"),
    ),
    "sync_url_insecure": (
        _l("Địa chỉ {value} dùng http:// không mã hóa, chỉ được dùng khi kho dữ liệu trung tâm chạy trên chính máy này."),
        _l("Dùng địa chỉ https:// của kho dữ liệu trung tâm; nếu kho chạy trên máy này, dùng http://127.0.0.1."),
    ),
    "sync_ca_invalid": (
        _l("Tệp {file} không phải chứng chỉ CA dạng PEM."),
        _l("Chọn tệp chứng chỉ CA (.pem) do người quản lý kho dữ liệu trung tâm gửi."),
    ),
    "sync_tls_failed": (
        _l("Chứng chỉ HTTPS của {value} không được tin cậy nên chưa gửi gì."),
        _l("Nếu kho dữ liệu trung tâm dùng CA riêng, chạy lại lệnh với --ca TỆP-CA; kiểm tra cả ngày giờ của máy tính."),
    ),
    "sync_unreachable": (
        _l("Không kết nối được kho dữ liệu trung tâm {value} sau {field} lần thử."),
        _l("Kiểm tra mạng rồi chạy lại lệnh: dữ liệu chưa gửi vẫn còn và được gửi tiếp từ chỗ dừng. "
           "Không có mạng thì dùng fieldapp sync export --out TỆP rồi chép tệp sang USB."),
    ),
    "sync_key_rejected": (
        _l("Kho dữ liệu trung tâm không nhận khóa của máy này ({value})."),
        _l("Xin người quản lý kho một mã đăng ký mới rồi chạy fieldapp sync enrol ĐỊA-CHỈ MÃ; dữ liệu chưa gửi vẫn còn."),
    ),
    "sync_site_revoked": (
        _l("Kho dữ liệu trung tâm đã thu hồi khóa của máy này."),
        _l("Xin người quản lý kho một mã đăng ký mới rồi chạy fieldapp sync enrol ĐỊA-CHỈ MÃ; dữ liệu chưa gửi vẫn còn."),
    ),
    "sync_batch_rejected": (
        _l("Kho dữ liệu trung tâm từ chối lô bản ghi {value} ({field})."),
        _l("Chạy lại fieldapp sync push; nếu vẫn lỗi, báo người quản lý kho mã lỗi trong ngoặc."),
    ),
    "sync_central_error": (
        _l("Kho dữ liệu trung tâm trả lời không đúng giao thức ({value})."),
        _l("Chạy lại lệnh sau ít phút; nếu vẫn lỗi, báo người quản lý kho nội dung trong ngoặc."),
    ),
    "sync_enrol_code_invalid": (
        _l("Mã đăng ký không đúng, đã dùng hoặc đã hết hạn."),
        _l("Kiểm tra từng ký tự của mã; nếu đúng, xin người quản lý kho mã mới (mỗi mã dùng một lần, trong 7 ngày)."),
    ),
    "sync_not_enrolled": (
        _l("Máy này chưa đăng ký với kho dữ liệu trung tâm."),
        _l("Xin người quản lý kho một mã đăng ký rồi chạy fieldapp sync enrol ĐỊA-CHỈ MÃ."),
    ),
    "sync_key_missing": (
        _l("Không đọc được khóa của máy này trong {file}."),
        _l("Chép lại tệp khóa từ bản sao lưu, hoặc xin mã đăng ký mới rồi chạy fieldapp sync enrol ĐỊA-CHỈ MÃ."),
    ),
    "sync_central_ahead": (
        _l("Kho dữ liệu trung tâm đã nhận đến bản ghi số {value} nhưng máy này mới có đến số {field}."),
        _l("Dừng gửi và báo người quản lý kho: máy này có thể đã được khôi phục từ bản sao lưu cũ, "
           "hoặc một máy khác dùng cùng đăng ký."),
    ),
    "sync_records_missing": (
        _l("Kho dữ liệu trung tâm cần các bản ghi từ số {value}, nhưng máy này đã xóa chúng khi xóa dữ liệu cá nhân cũ."),
        _l("Báo người quản lý kho: kho có thể đã mất dữ liệu và cần khôi phục từ bản sao lưu."),
    ),
    "sync_no_package": (
        _l("Kho dữ liệu trung tâm chưa có gói đợt khám cho máy này."),
        _l("Nhờ trạm y tế tạo gói (fieldapp sync package) và người quản lý kho đưa gói lên, rồi chạy lại lệnh."),
    ),
    "sync_package_invalid": (
        _l("Gói đợt khám không đúng định dạng ({value})."),
        _l("Tạo lại gói ở trạm y tế bằng fieldapp sync package, rồi đưa lên kho và tải lại."),
    ),
    "sync_package_round_conflict": (
        _l("Máy này đã có một đợt khám khác cùng tên '{value}'."),
        _l("Đổi tên đợt khám trên máy này hoặc ở trạm y tế, rồi tải lại gói."),
    ),
    "sync_export_failed": (
        _l("Không ghi được tệp {file}: {value}."),
        _l("Kiểm tra USB đã cắm, còn chỗ trống và không bị khóa ghi, rồi chạy lại lệnh."),
    ),
    # The central store's commands.
    "central_site_name_invalid": (
        _l("Tên điểm khám '{value}' không hợp lệ."),
        _l("Đặt tên từ 1 đến 100 ký tự, ví dụ: Trạm Y tế phường An Lạc."),
    ),
    "central_site_exists": (
        _l("Kho đã có điểm khám tên '{value}'."),
        _l("Để đăng ký lại đúng máy đó, thêm --new-code. Một máy mới cần một tên mới."),
    ),
    "central_site_not_found": (
        _l("Kho không có điểm khám nào tên '{value}'."),
        _l("Xem tên các điểm khám bằng lệnh fieldapp central site list."),
    ),
    "central_database_failed": (
        _l("Không kết nối được cơ sở dữ liệu {value}: {field}"),
        _l("Kiểm tra địa chỉ, tên người dùng và mật khẩu trong --database, và PostgreSQL đang chạy."),
    ),
    "central_tls_failed": (
        _l("Không dùng được chứng chỉ HTTPS: {value}"),
        _l("Khôi phục thư mục tls/ từ bản sao lưu, hoặc xóa nó để tạo chứng chỉ gốc mới rồi gửi tệp ca.pem mới cho các điểm khám."),
    ),
    "central_import_unreadable": (
        _l("Tệp không phải tệp xuất dữ liệu của điểm khám."),
        _l("Chọn đúng tệp do lệnh fieldapp sync export ghi ra; nếu tệp hỏng, xuất lại ở điểm khám."),
    ),
    "central_import_site_unknown": (
        _l("Tệp xuất của một máy chưa đăng ký với kho (mã máy {value})."),
        _l("Thêm điểm khám bằng fieldapp central site add, đăng ký máy đó, rồi xuất lại tệp."),
    ),
    "central_import_site_revoked": (
        _l("Khóa của máy đã ghi tệp này đã bị thu hồi (mã máy {value})."),
        _l("Cấp mã đăng ký mới bằng fieldapp central site add TÊN --new-code, đăng ký lại máy đó, rồi xuất lại tệp."),
    ),
    "central_import_signature": (
        _l("Chữ ký của tệp không khớp với khóa của máy (mã máy {value}): tệp đã bị sửa hoặc không do máy đó ký."),
        _l("Xuất lại tệp ở điểm khám rồi nhập lại; không sửa tệp bằng tay."),
    ),
    "central_import_batch_invalid": (
        _l("Lô bản ghi thứ {value} trong tệp không hợp lệ ({field})."),
        _l("Các lô trước nó đã được nhận. Xuất lại tệp ở điểm khám rồi nhập lại; báo mã lỗi trong ngoặc nếu vẫn lỗi."),
    ),
    "central_import_sequence_gap": (
        _l("Tệp bắt đầu từ bản ghi số {value}, nhưng kho cần nhận từ số {field}."),
        _l("Nhập trước tệp xuất cũ hơn của máy này, hoặc ở điểm khám chạy fieldapp sync push hay xuất lại tệp."),
    ),
    "central_package_invalid": (
        _l("Tệp {file} không phải gói đợt khám."),
        _l("Ở trạm y tế, chạy fieldapp sync package --round TÊN --out TỆP rồi đưa tệp đó lên."),
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

"""Rendering helpers: a page or its htmx fragment, and one place that renders problems."""

import io
import logging
import tempfile
from pathlib import Path

from flask import jsonify, make_response, render_template, request, send_file
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .birthdates import parse_iso
from .errors import FieldappError
from .exports import write_table

log = logging.getLogger(__name__)


def wants_fragment() -> bool:
    """True when htmx asked for part of a page rather than a whole one."""
    return request.headers.get("HX-Request") == "true"


def render(template: str, fragment: str | None = None, status: int = 200, **context):
    """Render the fragment for htmx requests and the page otherwise; mark the response as varying."""
    name = fragment if fragment and wants_fragment() else template
    response = make_response(render_template(name, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def send_xlsx(columns: list[str], rows: list[list], download_name: str):
    """Send a table as an Excel download."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.xlsx"
        write_table(path, columns, rows)
        data = io.BytesIO(path.read_bytes())
    return send_file(data, as_attachment=True, download_name=download_name)


def _problem(message: str, hint: str, status: int):
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"message": message, "hint": hint}), status
    template = "_problem.html" if wants_fragment() else "problem.html"
    return render_template(template, message=message, hint=hint), status


def birth_filter(value: str | None) -> str:
    """Show a stored birth date (yyyy, yyyy-mm or yyyy-mm-dd) the Vietnamese way."""
    return parse_iso(value).display() if value else "—"


def sex_filter(value: str | None) -> str:
    """Show M/F as Nam/Nữ."""
    return {"M": _("Nam"), "F": _("Nữ")}.get(value or "", "—")


def init_app(app) -> None:
    """Register template filters and the handlers for catalogue errors and HTTP errors."""
    app.add_template_filter(birth_filter, "birth")
    app.add_template_filter(sex_filter, "sex")

    @app.errorhandler(FieldappError)
    def handle_fieldapp_error(error: FieldappError):
        log.info("rejected request: %s", error.code)
        return _problem(error.message, error.hint, error.status)

    @app.errorhandler(RequestEntityTooLarge)
    def handle_too_large(_error):
        return _problem(_("Tệp tải lên quá lớn (tối đa 64 MB)."), _("Chia danh sách thành nhiều tệp nhỏ hơn."), 413)

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        messages = {
            400: (_("Yêu cầu không hợp lệ (có thể phiên làm việc đã hết hạn)."), _("Tải lại trang rồi thử lại.")),
            403: (_("Bạn không có quyền xem trang này."), _("Đăng nhập bằng tài khoản có quyền phù hợp.")),
            404: (_("Không tìm thấy trang hoặc bản ghi này."), _("Quay lại danh sách và chọn lại.")),
            405: (_("Thao tác không được hỗ trợ ở địa chỉ này."), _("Quay lại trang trước.")),
        }
        message, hint = messages.get(error.code, (error.name, ""))
        return _problem(message, hint, error.code)

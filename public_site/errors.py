"""Error pages for people: short, Chinese, no trace."""
from flask import current_app, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from supervision.errors import DomainError, NotFound

TITLES = {404: "页面不存在", 405: "不支持该请求方法", 413: "内容过大", 500: "服务暂时不可用"}


def _page(status: int, message: str):
    return render_template("error.html", status=status, title=TITLES.get(status, "请求无法处理"), message=message), status


def handle_domain_error(error: DomainError):
    return _page(404 if isinstance(error, NotFound) else 400, error.message)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    return _page(status, TITLES.get(status, "请求无法处理"))


def handle_unexpected(error: Exception):
    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())

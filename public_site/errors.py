"""Error pages for people: short, Chinese, no trace."""
from flask import current_app, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from supervision.errors import DomainError, NotFound

TITLES = {404: "页面不存在", 405: "不支持该请求方法", 413: "内容过大", 500: "服务暂时不可用", 503: "服务暂时不可用"}
RETRY_AFTER_SECONDS = 30


def _page(status: int, message: str):
    return render_template("error.html", status=status, title=TITLES.get(status, "请求无法处理"), message=message), status


def handle_domain_error(error: DomainError):
    return _page(404 if isinstance(error, NotFound) else 400, error.message)


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    return _page(status, TITLES.get(status, "请求无法处理"))


def handle_database_unavailable():
    body, status = _page(503, "系统正在维护或重启，请稍后刷新页面")
    return body, status, {"Retry-After": str(current_app.config.get("RETRY_AFTER_SECONDS", RETRY_AFTER_SECONDS))}


def handle_unexpected(error: Exception):
    current_app.logger.exception("unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())

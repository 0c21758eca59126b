"""Domain errors: what went wrong, in terms a caller can act on.

Services raise these; interfaces translate them (the JSON API into its one error shape, the CLI
into a message and an exit code). Messages are Simplified Chinese because inspectors and
establishments read them; codes are stable machine strings for programs.
"""
from __future__ import annotations


class DomainError(Exception):
    code = "error"
    message = "请求无法处理"

    def __init__(self, message: str | None = None, *, fields: dict | None = None, code: str | None = None):
        self.message = message or self.message
        self.fields = fields or {}
        if code:
            self.code = code
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "validation_failed"
    message = "提交的数据有误"


class NotFound(DomainError):
    code = "not_found"
    message = "未找到"


class Conflict(DomainError):
    code = "conflict"
    message = "与已有数据冲突"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    message = "未登录或令牌无效"


class Forbidden(DomainError):
    code = "forbidden"
    message = "无权执行此操作"


class TooLarge(DomainError):
    code = "too_large"
    message = "内容超过大小限制"

"""Simplified Chinese for marshmallow's built-in validation messages.

Inspectors read these on their terminals. Applied once, when the API package is imported, by
replacing the class-level defaults; schemas that set their own message keep it.
"""
from marshmallow import Schema, fields, validate

_FIELD = {
    "required": "缺少必填字段",
    "null": "该字段不能为空",
    "validator_failed": "取值无效",
}
_BY_CLASS = {
    fields.String: {"invalid": "应为字符串", "invalid_utf8": "不是有效的 UTF-8 字符串"},
    fields.Integer: {"invalid": "应为整数", "too_large": "数值过大"},
    fields.Float: {"invalid": "应为数字", "too_large": "数值过大", "special": "不允许 NaN 或无穷大"},
    fields.Decimal: {"invalid": "应为数字", "too_large": "数值过大", "special": "不允许 NaN 或无穷大"},
    fields.Number: {"invalid": "应为数字", "too_large": "数值过大"},
    fields.Boolean: {"invalid": "应为布尔值"},
    fields.DateTime: {"invalid": "应为 ISO 8601 日期时间", "invalid_awareness": "日期时间必须带时区偏移", "format": "日期时间格式错误"},
    fields.AwareDateTime: {"invalid_awareness": "日期时间必须带时区偏移（如 +08:00）"},
    fields.Date: {"invalid": "应为 YYYY-MM-DD 格式的日期", "format": "日期格式错误"},
    fields.UUID: {"invalid_uuid": "应为 UUID"},
    fields.List: {"invalid": "应为数组"},
    fields.Dict: {"invalid": "应为对象"},
    fields.Nested: {"type": "应为对象"},
    fields.Email: {"invalid": "不是有效的电子邮件地址"},
}


def apply() -> None:
    fields.Field.default_error_messages.update(_FIELD)
    for cls, messages in _BY_CLASS.items():
        cls.default_error_messages = {**cls.default_error_messages, **messages}
    Schema._default_error_messages = {
        **Schema._default_error_messages,
        "type": "应为 JSON 对象",
        "unknown": "不允许的字段",
    }
    validate.Length.message_min = "长度不能少于 {min}"
    validate.Length.message_max = "长度不能超过 {max}"
    validate.Length.message_all = "长度应在 {min} 到 {max} 之间"
    validate.Length.message_equal = "长度应为 {equal}"
    # Range formats these twice: first {min_op}/{max_op}, then {min}/{max}.
    validate.Range.message_min = "应{min_op} {{min}}"
    validate.Range.message_max = "应{max_op} {{max}}"
    validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
    validate.Range.message_gte = "大于或等于"
    validate.Range.message_gt = "大于"
    validate.Range.message_lte = "小于或等于"
    validate.Range.message_lt = "小于"
    validate.OneOf.default_message = "取值应为以下之一：{choices}"
    validate.Regexp.default_message = "格式不正确"

"""Unified social credit code (统一社会信用代码), GB 32100-2015.

`check()` returns the first rule a code breaks, in words a clerk can act on, or None.
python-stdnum's checker refuses registration-authority letters that the standard allows and
does not check the organisation code's own digit, hence this implementation.
"""
from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11714 organisation code (characters 9-17): 8 body characters and a check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def organisation_check_character(body8: str) -> str:
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def normalise(code: str) -> str:
    return (code or "").strip().upper()


def check(code: str) -> str | None:
    """The reason `code` is not a valid credit code, or None if it is."""
    code = normalise(code)
    if len(code) != 18:
        return f"统一社会信用代码应为18位，实际为{len(code)}位"
    bad = [c for c in code if c not in _VALUE]
    if bad:
        return f"统一社会信用代码含有不允许的字符“{bad[0]}”（不得使用 I、O、S、V、Z 及小写以外的符号）"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：第18位应为“{expected}”，实际为“{code[17]}”"
    org = code[8:17]
    if all(c in _ORG_ALPHABET for c in org[:8]) and org[8] in "0123456789X":
        org_expected = organisation_check_character(org[:8])
        if org[8] != org_expected:
            return f"组织机构代码（第9–17位）校验位错误：第17位应为“{org_expected}”，实际为“{org[8]}”"
    else:
        return f"组织机构代码（第9–17位）校验位“{org[8]}”不合规"
    return None


def is_valid(code: str) -> bool:
    return check(code) is None


def complete(first16: str) -> str:
    """Append the organisation check character and the code check character to 16 characters.
    Used to make valid codes for demo data and tests."""
    body = first16[:16]
    body17 = body + organisation_check_character(body[8:16])
    return body17 + check_character(body17)

"""Which characters text may hold, wherever it enters: the API, registry files, the CLI.

Lone UTF-16 surrogates cannot be encoded as UTF-8; NUL cannot be stored in PostgreSQL text;
the other control characters cannot be written to XML (so an XLSX export would fail on them)
and have no place in a name or an address. Free text (notes, answers) may hold tabs and line
breaks.
"""
from __future__ import annotations

import re

SURROGATE = re.compile("[\ud800-\udfff]")
CONTROL_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")
CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def unstorable(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` cannot be stored as it is (Simplified Chinese), or None when it can."""
    if SURROGATE.search(text):
        return "包含无效的 Unicode 字符（孤立的代理项）"
    found = (CONTROL_MULTILINE if multiline else CONTROL_SINGLE_LINE).search(text)
    if found:
        return f"不能包含控制字符（发现 U+{ord(found.group()):04X}）"
    return None

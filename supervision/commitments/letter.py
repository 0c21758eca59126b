"""The standard letter text as policy data of kind `commitment_letter`.

Each document is one version of the letter: a version label, a title and the text with the
placeholders `{name}` and `{credit_code}`, filled with the establishment's own when the letter is
shown and signed. The text is policy, not code, because a province may word its own letter and
replace it from a date; what was signed is kept verbatim with the signature, so a later version
never changes what an establishment promised.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from supervision import policy
from supervision.policy import PolicyInvalid

KIND = "commitment_letter"
PLACEHOLDERS = ("name", "credit_code")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class LetterPolicy:
    version: str  # the label shown and stored with a signature, e.g. "2020版"
    title: str
    text: str  # with placeholders


def validate(data: dict) -> LetterPolicy:
    policy.refuse_unknown(data, {"version", "title", "text"})
    version = policy.require(data, "version", str).strip()
    title = policy.require(data, "title", str).strip()
    text = policy.require(data, "text", str).strip()
    if not version or len(version) > 32:
        raise PolicyInvalid("版本标识不能为空，且不超过 32 个字符", key="version")
    if not title:
        raise PolicyInvalid("不能为空", key="title")
    if not text:
        raise PolicyInvalid("不能为空", key="text")
    unknown = sorted({p for p in _PLACEHOLDER.findall(text) if p not in PLACEHOLDERS})
    if unknown:
        raise PolicyInvalid(f"未知的占位符“{{{unknown[0]}}}”，只能使用 {{name}}、{{credit_code}}", key="text")
    if "{name}" not in text:
        raise PolicyInvalid("正文须含单位名称占位符 {name}", key="text")
    return LetterPolicy(version, title, text)


def fill(letter: LetterPolicy, *, name: str, credit_code: str) -> str:
    """The text as the establishment reads and signs it."""
    return letter.text.replace("{name}", name).replace("{credit_code}", credit_code)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


policy.register_kind(KIND, validate)

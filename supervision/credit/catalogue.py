"""The dishonesty catalogue (失信行为目录): what counts as dishonest conduct, how grave it is,
and on what legal basis (seed 000 §三(一), seed 003 §四(五)).

Policy data of kind `dishonesty_catalogue`, keyed by jurisdiction and effective date like every
policy, so a province can add or regrade entries from a date. A dishonesty record must cite an
entry of the catalogue in force on the day it arose, and takes its severity from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from supervision import policy
from supervision.policy import PolicyInvalid

KIND = "dishonesty_catalogue"
SEVERITIES = ("minor", "general", "serious")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    severity: str
    legal_basis: str


@dataclass(frozen=True)
class Catalogue:
    title: str
    entries: dict[str, Entry]


def validate(data: dict) -> Catalogue:
    policy.refuse_unknown(data, {"title", "entries"})
    title = policy.require(data, "title", str)
    entries = policy.require(data, "entries", dict)
    if not entries:
        raise PolicyInvalid("目录不能为空", key="entries")
    result = {}
    for code, entry in entries.items():
        key = f"entries.{code}"
        if not _CODE.match(code):
            raise PolicyInvalid("代码只能由小写字母、数字和下划线组成，以字母开头", key=key)
        if not isinstance(entry, dict):
            raise PolicyInvalid("应为表（table）", key=key)
        policy.refuse_unknown(entry, {"name", "severity", "legal_basis"}, prefix=key)
        name = policy.require(entry, "name", str, prefix=key)
        severity = policy.require(entry, "severity", str, prefix=key)
        basis = policy.require(entry, "legal_basis", str, prefix=key)
        if not name.strip():
            raise PolicyInvalid("不能为空", key=f"{key}.name")
        if severity not in SEVERITIES:
            raise PolicyInvalid(f"严重程度应为 {'、'.join(SEVERITIES)} 之一", key=f"{key}.severity")
        result[code] = Entry(code, name.strip(), severity, basis.strip())
    return Catalogue(title, result)


policy.register_kind(KIND, validate)

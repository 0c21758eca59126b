"""Policies as data: versioned TOML documents keyed by kind, jurisdiction and effective date.

Rules that a province or city may change — grading, publicity windows, deadlines, sampling
ratios, catalogues — are never constants in code. Each is a file

    <root>/<kind>/<jurisdiction code or "default">/<YYYY-MM-DD>.toml

effective from the date in its name until the next file of the same kind and jurisdiction. A
district uses its own file if it has one, else its city's, else its province's, else the
default. Roots are searched in order: the packaged defaults first, then `POLICY_DIR` (an
instance's own files), whose documents replace packaged ones with the same kind, jurisdiction
and date.

Each kind registers a validator (`register_kind`) that turns the parsed TOML into a typed value
or raises `PolicyInvalid` naming the key and the reason; loading names the file too. A document
keeps its text's SHA-256, so a result computed under it can store exactly which policy it used.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable

from supervision.errors import ValidationFailed

PACKAGED_ROOT = Path(__file__).resolve().parent / "data"
DEFAULT_JURISDICTION = "default"
_FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.toml$")


class PolicyInvalid(ValidationFailed):
    """A policy document that cannot be used. The message names the file, the key and why."""

    code = "policy_invalid"

    def __init__(self, reason: str, *, key: str = "", path: str | Path | None = None):
        self.reason, self.key, self.path = reason, key, str(path) if path else None
        where = " ".join(part for part in (self.path and f"{self.path}", key and f"[{key}]") if part)
        super().__init__(f"策略文件无效：{where}：{reason}" if where else f"策略文件无效：{reason}",
                         fields={key or "_policy": [reason]})

    def in_file(self, path: Path) -> "PolicyInvalid":
        return PolicyInvalid(self.reason, key=self.key, path=path)


@dataclass(frozen=True)
class PolicyDocument:
    kind: str
    jurisdiction: str  # a jurisdiction code, or "default"
    effective_from: date
    path: str
    text: str
    sha256: str
    value: Any = field(compare=False)  # what the kind's validator returned

    @property
    def version(self) -> str:
        """A short, human-readable version label: where and from when, plus the hash prefix."""
        return f"{self.kind}/{self.jurisdiction}/{self.effective_from.isoformat()}#{self.sha256[:12]}"


Validator = Callable[[dict], Any]
_VALIDATORS: dict[str, Validator] = {}


def register_kind(kind: str, validator: Validator) -> None:
    """Declare a policy kind and the function that validates (and types) its documents."""
    _VALIDATORS[kind] = validator


def parse(kind: str, text: str, *, path: str | Path = "<text>", jurisdiction: str = DEFAULT_JURISDICTION,
          effective_from: date | None = None) -> PolicyDocument:
    """Parse and validate one document; raises PolicyInvalid naming the file and key."""
    if kind not in _VALIDATORS:
        raise PolicyInvalid(f"未知的策略类型“{kind}”", path=path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyInvalid(f"不是有效的 TOML：{exc}", path=path) from None
    try:
        value = _VALIDATORS[kind](data)
    except PolicyInvalid as exc:
        raise exc.in_file(Path(path)) from None
    return PolicyDocument(kind, jurisdiction, effective_from or date.min, str(path), text,
                          hashlib.sha256(text.encode("utf-8")).hexdigest(), value)


def load_file(kind: str, path: Path) -> PolicyDocument:
    match = _FILE_NAME.match(path.name)
    if not match:
        raise PolicyInvalid("文件名须为生效日期 YYYY-MM-DD.toml", path=path)
    try:
        effective = date.fromisoformat(match.group(1))
    except ValueError:
        raise PolicyInvalid("文件名中的生效日期无效", path=path) from None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyInvalid(f"无法读取：{exc}", path=path) from None
    return parse(kind, text, path=path, jurisdiction=path.parent.name, effective_from=effective)


class PolicySet:
    """Every document of one kind, found under the roots, ready to resolve by jurisdiction and date."""

    def __init__(self, kind: str, documents: Iterable[PolicyDocument]):
        self.kind = kind
        by_key: dict[tuple[str, date], PolicyDocument] = {}
        for document in documents:
            by_key[(document.jurisdiction, document.effective_from)] = document  # later roots win
        self._by_jurisdiction: dict[str, list[PolicyDocument]] = {}
        for (jurisdiction, _), document in sorted(by_key.items(), key=lambda kv: kv[0]):
            self._by_jurisdiction.setdefault(jurisdiction, []).append(document)

    @classmethod
    def load(cls, kind: str, roots: Iterable[Path | str | None] = ()) -> "PolicySet":
        documents = []
        for root in [PACKAGED_ROOT, *roots]:
            if not root:
                continue
            folder = Path(root) / kind
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*/*.toml")):
                documents.append(load_file(kind, path))
        policy_set = cls(kind, documents)
        if DEFAULT_JURISDICTION not in policy_set._by_jurisdiction:
            raise PolicyInvalid(f"缺少默认策略（{kind}/default/YYYY-MM-DD.toml）")
        return policy_set

    def documents(self, jurisdiction: str = DEFAULT_JURISDICTION) -> list[PolicyDocument]:
        return list(self._by_jurisdiction.get(jurisdiction, []))

    def resolve(self, jurisdiction_chain: Iterable[str], on: date) -> PolicyDocument:
        """The document in force on `on` for the first jurisdiction of the chain (most specific
        first, e.g. district, city, province) that has one; else the default."""
        for code in [*jurisdiction_chain, DEFAULT_JURISDICTION]:
            in_force = [d for d in self._by_jurisdiction.get(code, []) if d.effective_from <= on]
            if in_force:
                return in_force[-1]
        raise PolicyInvalid(f"{on.isoformat()} 没有生效的“{self.kind}”策略")

    def changes_between(self, jurisdiction_chain: Iterable[str], start: date, end: date) -> list[PolicyDocument]:
        """Every document in force at some day of [start, end] for this chain, oldest first: what a
        computation over a period must apply, each from its own date."""
        chain = list(jurisdiction_chain)
        result = [self.resolve(chain, start)]
        for code in [*chain, DEFAULT_JURISDICTION]:
            docs = self._by_jurisdiction.get(code, [])
            if docs:
                for d in docs:
                    if start < d.effective_from <= end:
                        result.append(d)
                break
        return sorted({d.path: d for d in result}.values(), key=lambda d: d.effective_from)


# --- small validators shared by the kinds ---------------------------------------------------

def require(data: dict, key: str, types: type | tuple[type, ...], *, prefix: str = "") -> Any:
    path = f"{prefix}.{key}" if prefix else key
    if key not in data:
        raise PolicyInvalid("缺少必填项", key=path)
    value = data[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise PolicyInvalid("类型错误", key=path)
    if not isinstance(value, types):
        names = "、".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise PolicyInvalid(f"类型错误，应为 {names}", key=path)
    return value


def refuse_unknown(data: dict, allowed: Iterable[str], *, prefix: str = "") -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise PolicyInvalid("未知的配置项", key=key)


def jurisdiction_chain(jurisdiction) -> list[str]:
    """Codes from a jurisdiction up to its province, most specific first."""
    chain = []
    node = jurisdiction
    while node is not None:
        chain.append(node.code)
        node = node.parent
    return chain

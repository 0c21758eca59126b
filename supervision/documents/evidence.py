"""Evidence files that establishments and supervisors hand in (objections, self-reported
information): PDF, JPEG or PNG, recognised by their signatures rather than their names, at most
10 MB each, stored by SHA-256 in the attachment store.

One place for the checks, so every kind of evidence refuses the same files with the same words.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from supervision.errors import NotFound, ValidationFailed

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_EVIDENCE_FILES = 10
SIGNATURES = {"application/pdf": (b"%PDF-",), "image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}


@dataclass(frozen=True)
class EvidenceFile:
    filename: str
    content: bytes


def media_type_of(content: bytes) -> str | None:
    for media_type, prefixes in SIGNATURES.items():
        if any(content.startswith(p) for p in prefixes):
            return media_type
    return None


def check_files(files: list[EvidenceFile], *, field: str = "evidence") -> list[tuple[EvidenceFile, str, str]]:
    """Each file with its media type and SHA-256; the first bad one refuses them all."""
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(fields={field: [f"证据材料最多 {MAX_EVIDENCE_FILES} 个文件"]})
    checked = []
    for f in files:
        name = (f.filename or "").strip()[:200] or "evidence"
        if not f.content:
            raise ValidationFailed(fields={field: [f"文件“{name}”为空"]})
        if len(f.content) > MAX_EVIDENCE_BYTES:
            raise ValidationFailed(fields={field: [f"文件“{name}”超过 10 MB"]})
        media_type = media_type_of(f.content)
        if media_type is None:
            raise ValidationFailed(fields={field: [f"文件“{name}”不是 PDF、JPEG 或 PNG 文件"]})
        checked.append((EvidenceFile(name, f.content), media_type, hashlib.sha256(f.content).hexdigest()))
    return checked


def store_file(store, sha256: str, content: bytes) -> None:
    """Content-addressed, written whole before it is named (a reader never sees half a file)."""
    final: Path = store.path_for(sha256)
    if final.is_file():
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=final.parent, prefix=".evidence-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(temp, final)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def listing(found, out_dir: str | None) -> list[str]:
    """One line per evidence file (id, name, type, size, SHA-256) for a supervisor at the command
    line; with `out_dir`, each file is copied there (as `<id>-<name>`) to be opened, and the
    line says where."""
    target = Path(out_dir) if out_dir else None
    if target is not None:
        target.mkdir(parents=True, exist_ok=True)
    lines = []
    for evidence, path in found:
        line = f"{evidence.id}\t{evidence.filename}\t{evidence.media_type}\t{evidence.size} 字节\t{evidence.sha256}"
        if target is not None:
            copy = target / f"{evidence.id}-{Path(evidence.filename).name}"
            shutil.copyfile(path, copy)
            line += f"\t→ {copy}"
        lines.append(line)
    return lines


def keep(session, store, checked, model, **owner) -> None:
    """Store each checked file (`check_files`) and add its row of `model` (an evidence table
    with sha256, media_type, filename and size) belonging to `owner`, e.g. objection_id=7."""
    for f, media_type, sha256 in checked:
        store_file(store, sha256, f.content)
        session.add(model(**owner, sha256=sha256, media_type=media_type, filename=f.filename, size=len(f.content)))
    session.flush()


def held_file(session, store, model, evidence_id: int, *, what: str, **owner):
    """The evidence row `evidence_id` of `model` if it belongs to `owner`, with the path of its
    stored file; NotFound naming `what` (e.g. 证据材料) otherwise, or when the file is gone."""
    found = session.get(model, evidence_id)
    if found is None or any(getattr(found, column) != value for column, value in owner.items()):
        raise NotFound(f"{what}不存在", fields={"evidence_id": [f"{what}不存在"]})
    path = store.path_for(found.sha256)
    if not path.is_file():
        raise NotFound(f"{what}文件缺失", fields={"evidence_id": ["文件缺失，请联系监督机构"]})
    return found, path

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

from supervision.errors import ValidationFailed

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

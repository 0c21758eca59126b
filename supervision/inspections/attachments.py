"""The attachment store: photos and signatures, addressed by their SHA-256.

Files are written under a path derived from the hash only (never from anything the client
names), through a temporary file and an atomic rename, so a broken upload leaves nothing half
written. An image must decode as the type it claims, within a pixel budget that stops
decompression bombs before any pixel is decoded.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from supervision import audit
from supervision.errors import TooLarge, ValidationFailed
from supervision.inspections.models import Attachment
from supervision.modelbase import utcnow

ALLOWED_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int


class AttachmentStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()


def check_address(sha256: str) -> str:
    if not _SHA256.match(sha256 or ""):
        raise ValidationFailed("附件地址应为 64 位小写十六进制 SHA-256", fields={"sha256": ["格式错误"]})
    return sha256


def receive_attachment(
    session: Session, actor: audit.Actor, store: AttachmentStore, *, sha256: str, media_type: str,
    body: BinaryIO, limits: UploadLimits,
) -> tuple[Attachment, bool]:
    """Store one uploaded file (step one; the caller commits, then settles the inspections
    waiting for it). Returns (attachment, created); an already-held file is acknowledged
    without being written again.

    The file's receipt is not a chain entry of its own: the file is addressed by its hash, and
    the chained submission already names every hash it relies on, so a file cannot be swapped
    unnoticed. The row keeps who sent it and when.
    """
    check_address(sha256)
    media_type = check_media_type(media_type)
    if store.has(sha256):  # only then can the row exist: files are written before rows
        existing = session.get(Attachment, sha256)
        if existing is not None:
            return existing, False
    return _store_new(session, actor, store, sha256=sha256, media_type=media_type, body=body, limits=limits)


def check_media_type(media_type: str | None) -> str:
    media_type = (media_type or "").split(";")[0].strip().lower()
    if media_type not in ALLOWED_MEDIA_TYPES:
        raise ValidationFailed(f"不支持的附件类型“{media_type}”，允许：{', '.join(ALLOWED_MEDIA_TYPES)}",
                               fields={"Content-Type": ["不支持的附件类型"]})
    return media_type


def _store_new(session: Session, actor: audit.Actor, store: AttachmentStore, *, sha256: str, media_type: str,
               body: BinaryIO, limits: UploadLimits) -> tuple[Attachment, bool]:
    temp_path, digest, size = _spool(store, body, limits.max_bytes)
    try:
        if digest != sha256:
            raise ValidationFailed("附件内容的 SHA-256 与地址不符，文件可能在传输中损坏，请重新上传",
                                   code="hash_mismatch", fields={"sha256": [f"实际内容的 SHA-256 为 {digest}"]})
        width, height = _check_image(temp_path, media_type, limits.max_pixels)
        final = store.path_for(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp_path, final)
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)

    return record_received(session, actor, sha256=sha256, size=size, media_type=media_type, width=width,
                           height=height)


def record_received(session: Session, actor: audit.Actor, *, sha256: str, size: int, media_type: str,
                    width: int | None = None, height: int | None = None) -> tuple[Attachment, bool]:
    """The row of a file just placed in the store (a photo, or a video completed over tus).
    Returns (attachment, created)."""
    # Insert unless the row is already there (the same file arrived on another connection at
    # the same moment, or the row survived while the file was lost and is back now): ON
    # CONFLICT DO NOTHING, which needs no savepoint to recover from.
    values = dict(sha256=sha256, size=size, media_type=media_type, width=width, height=height,
                  device_id=actor.device_id, received_at=utcnow())
    created = session.execute(_insert_if_new(session.get_bind().dialect.name), values).first() is not None
    if not created:
        return session.get(Attachment, sha256, populate_existing=True), False
    attachment = Attachment(**values)
    make_transient_to_detached(attachment)  # the row exists: known to the session, not re-inserted
    session.add(attachment)
    return attachment, True


@functools.cache
def _insert_if_new(dialect: str):
    """INSERT … ON CONFLICT (sha256) DO NOTHING RETURNING sha256, built once per dialect."""
    table = Attachment.__table__
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return dialect_insert(table).on_conflict_do_nothing(index_elements=["sha256"]).returning(table.c.sha256)


def _spool(store: AttachmentStore, body: BinaryIO, max_bytes: int) -> tuple[str, str, int]:
    tmp_dir = store.root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=tmp_dir)
    hasher, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := body.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"附件超过大小上限（上限 {max_bytes} 字节）", fields={"_body": [f"上限 {max_bytes} 字节"]})
                hasher.update(chunk)
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    if size == 0:
        os.unlink(path)
        raise ValidationFailed("附件内容为空", fields={"_body": ["内容为空"]})
    return path, hasher.hexdigest(), size


def _check_image(path: str, media_type: str, max_pixels: int) -> tuple[int, int]:
    not_image = ValidationFailed(f"文件不是有效的 {media_type} 图片", code="not_an_image", fields={"_body": ["不是有效的图片"]})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format != _PIL_FORMAT[media_type]:
                    raise not_image
                width, height = image.size
                if width * height > max_pixels:
                    raise _bomb(width, height, max_pixels)
                image.load()  # decode it all: a truncated or corrupt file fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(0, 0, max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_image from None
    return width, height


def _bomb(width: int, height: int, max_pixels: int) -> ValidationFailed:
    size = f"{width}×{height} " if width else ""
    return ValidationFailed(f"图片尺寸 {size}超过上限 {max_pixels} 像素，已拒收", code="image_too_large",
                            fields={"_body": [f"上限 {max_pixels} 像素"]})

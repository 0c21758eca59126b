"""Body-camera video as inspection evidence: resumable uploads (the service under tus 1.0).

A video is declared in the inspection's manifest like a photo (SHA-256, size, media type) and
arrives in pieces over weak links. An upload is a row (`video_uploads`) and a partial file in
the attachment store (`<root>/uploads/<id>`); each piece is appended at the offset the server
holds, so a dropped connection resumes from the last byte that arrived.

- Nothing holds a whole file in memory: a piece is streamed to disk in blocks.
- Only one request writes an upload at a time: an exclusive `flock` on the partial file is held
  from the offset check through the commit of the new offset (`writing`); a second request is
  refused at once (409) rather than queued.
- The whole file's SHA-256 is kept running across pieces: the hash state of an upload stays in
  the process that wrote its last piece (`_RunningHashes`); a piece that arrives at another
  process (another gunicorn worker, a restart) re-hashes the partial file from disk once, and
  goes on from there. So the completion costs no second pass over the file in the common case.
- At completion the declared hash and the container's signature (an ISO BMFF `ftyp` box with an
  MP4 or QuickTime brand) are checked; on failure the upload and its bytes are discarded. On
  success the file moves, by an atomic rename, to its content address in the same store as the
  photos, and its `attachments` row is written like a photo's (a received file is not a chain
  entry of its own: docs/architecture.md). Creating and terminating an upload are audited.
- A file the server already holds completes at once: creation answers with offset = length.

The interface commits (services never commit) and then settles the inspections waiting for the
file (step two of docs/architecture.md).
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import queue
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Iterator

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from supervision import audit
from supervision.errors import Conflict, DomainError, Forbidden, NotFound, TooLarge, ValidationFailed
from supervision.inspections.attachments import AttachmentStore, check_address, record_received
from supervision.inspections.models import Attachment, VideoUpload
from supervision.modelbase import utcnow

VIDEO_MEDIA_TYPES = ("video/mp4", "video/quicktime")
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
_BLOCK = 1024 * 1024  # what one read from the request body and one write to disk handle

# ISO BMFF major/compatible brands (ISO/IEC 14496-12 and -14, 3GPP, Apple): what an MP4 says it is.
_MP4_BRANDS = frozenset({b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9",
                         b"mp41", b"mp42", b"mp71", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"f4v ", b"dash",
                         b"msdh", b"mmp4", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"hvc1", b"heic", b"MSNV",
                         b"XAVC", b"NDAS"})
_QUICKTIME_BRANDS = frozenset({b"qt  "})
SYSTEM_ACTOR = audit.Actor.system("video-upload-cleanup")
REFUSAL_ACTOR = audit.Actor.system("video-upload-refusal")


class ChecksumMismatch(DomainError):
    """A piece whose bytes do not match its Upload-Checksum (tus: 460); nothing of it is kept."""

    code = "checksum_mismatch"
    message = "分片校验和不符，该分片未保存，请重新发送"


class PieceInterrupted(Exception):
    """Raised by the body stream the interface passes in when the client went away mid-piece."""


class Refused(ValidationFailed):
    """The completed file is not what was declared (hash, container): the upload is discarded
    by the interface, in a unit of work of its own (the refused one rolls back)."""


class UploadGone(DomainError):
    """An upload that expired (tus: 410)."""

    code = "upload_expired"
    message = "上传已过期，请重新创建上传"


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int
    max_chunk_bytes: int
    expire_after: timedelta


@dataclass(frozen=True)
class Piece:
    """What `begin_piece` checked, for the write that follows: the upload as it stood."""

    upload_id: str
    sha256: str
    media_type: str
    length: int
    offset: int


@dataclass(frozen=True)
class Written:
    piece: Piece
    new_offset: int
    disconnected: bool  # the client went away mid-piece; what arrived before is kept


# --- where the bytes are ------------------------------------------------------------------------

def partial_path(store: AttachmentStore, upload_id: str) -> Path:
    return store.root / "uploads" / upload_id


@contextlib.contextmanager
def writing(store: AttachmentStore, upload_id: str) -> Iterator[None]:
    """Hold the upload for one piece: an exclusive, non-blocking lock on its partial file, from
    the offset check to the commit of the new offset. Works across processes of one host."""
    path = partial_path(store, upload_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        yield  # no partial file: the upload is complete, gone or unknown; begin_piece says which
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("该上传正由另一个请求写入，请稍后查询偏移量后重试", code="upload_busy",
                           fields={"Upload-Offset": ["另一个请求正在写入"]}) from None
        yield
    finally:
        os.close(fd)


class _Writer(threading.Thread):
    """Writes a piece's blocks to disk (and computes the piece's checksum) beside the request
    thread, which reads the next block and keeps the whole file's hash meanwhile: file writes
    and hashing both release the GIL. A short queue bounds the memory a piece holds: a few
    blocks, whatever the piece's size."""

    def __init__(self, out, hasher=None, depth: int = 4):
        super().__init__(daemon=True, name="video-piece-writer")
        self.out, self.hasher, self.queue, self.error = out, hasher, queue.Queue(depth), None
        self._closed = False
        self.start()

    def run(self) -> None:
        while (block := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.out.write(block)
                    if self.hasher is not None:
                        self.hasher.update(block)
                except BaseException as error:  # noqa: BLE001 - handed to the request thread
                    self.error = error

    def put(self, block: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(block)

    def close(self, raise_error: bool = True) -> None:
        if not self._closed:
            self._closed = True
            self.queue.put(None)
            self.join()
        if raise_error and self.error is not None:
            raise self.error


class _RunningHashes:
    """SHA-256 states of uploads in progress, kept in this process: (offset, hasher) by upload
    id, the least recently used dropped first. `hashlib` state cannot be stored in a database;
    a miss costs one re-hash of the partial file from disk."""

    def __init__(self, capacity: int = 256):
        self.capacity = capacity
        self._items: OrderedDict[str, tuple[int, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.rehashed_bytes = 0  # for the bench: bytes read back from disk to resume a hash

    def at(self, store: AttachmentStore, upload_id: str, offset: int):
        with self._lock:
            held = self._items.get(upload_id)
        if held is not None and held[0] == offset:
            return held[1].copy()
        hasher = hashlib.sha256()
        with open(partial_path(store, upload_id), "rb") as fh:
            remaining = offset
            while remaining > 0:
                block = fh.read(min(_BLOCK, remaining))
                if not block:
                    break
                hasher.update(block)
                remaining -= len(block)
        self.rehashed_bytes += offset
        return hasher

    def keep(self, upload_id: str, offset: int, hasher) -> None:
        with self._lock:
            self._items[upload_id] = (offset, hasher)
            self._items.move_to_end(upload_id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def forget(self, upload_id: str) -> None:
        with self._lock:
            self._items.pop(upload_id, None)


RUNNING_HASHES = _RunningHashes()


# --- the steps --------------------------------------------------------------------------------

def _uploader(actor: audit.Actor) -> None:
    if actor.kind != "device" or actor.device_id is None:
        raise Forbidden("视频只能由执法终端上传", code="forbidden")


def check_media_type(media_type: str | None) -> str:
    media_type = (media_type or "").split(";")[0].strip().lower()
    if media_type not in VIDEO_MEDIA_TYPES:
        raise ValidationFailed(f"不支持的视频类型“{media_type}”，允许：{', '.join(VIDEO_MEDIA_TYPES)}",
                               fields={"Upload-Metadata": ["不支持的视频类型"]})
    return media_type


def create(session: Session, actor: audit.Actor, store: AttachmentStore, *, length: int, sha256: str,
           media_type: str, limits: VideoLimits) -> VideoUpload:
    """Open an upload of `length` bytes whose whole content has the declared SHA-256. When the
    server already holds that file, the upload is complete at once (offset = length) and no
    byte has to be sent again. The caller commits."""
    _uploader(actor)
    check_address(sha256)
    media_type = check_media_type(media_type)
    if length < 1:
        raise ValidationFailed("视频大小应大于 0 字节", fields={"Upload-Length": ["应大于 0"]})
    if length > limits.max_bytes:
        raise TooLarge(f"视频超过大小上限（上限 {limits.max_bytes} 字节）",
                       fields={"Upload-Length": [f"上限 {limits.max_bytes} 字节"]})
    now = utcnow()
    upload = VideoUpload(id=secrets.token_hex(16), sha256=sha256, media_type=media_type, length=length,
                         upload_offset=0, device_id=actor.device_id, created_at=now,
                         expires_at=now + limits.expire_after)
    held = store.has(sha256) and session.get(Attachment, sha256)
    if held and held.size == length:
        upload.upload_offset, upload.completed_at = length, now
    else:
        path = partial_path(store, upload.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=False)
    session.add(upload)
    session.flush()
    audit.record(session, actor, "video_upload.create", upload)
    return upload


def get(session: Session, actor: audit.Actor, upload_id: str) -> VideoUpload:
    """An upload of the actor's own device; another device's does not exist for it."""
    upload = session.get(VideoUpload, upload_id, populate_existing=True) if len(upload_id) == 32 else None
    if upload is None or upload.device_id != actor.device_id:
        raise NotFound("上传不存在或已被删除", fields={"upload_id": ["上传不存在"]})
    return upload


def begin_piece(session: Session, actor: audit.Actor, upload_id: str, *, offset: int) -> Piece:
    """Check a piece before reading it: the upload is the actor's, not expired, not complete,
    and the piece starts where the server's bytes end (else 409, and the client asks HEAD)."""
    upload = get(session, actor, upload_id)
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise UploadGone()
    if offset != upload.upload_offset:
        raise Conflict(f"分片起点 {offset} 与服务器已收到的字节数 {upload.upload_offset} 不符，请先查询偏移量",
                       code="offset_mismatch", fields={"Upload-Offset": [f"服务器偏移量为 {upload.upload_offset}"]})
    if upload.completed_at is not None:
        raise Conflict("该上传已完成", code="upload_complete", fields={"Upload-Offset": ["上传已完成"]})
    return Piece(upload.id, upload.sha256, upload.media_type, upload.length, upload.upload_offset)


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """`Upload-Checksum: <algorithm> <base64 digest>` → (algorithm, digest), or None."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ValidationFailed(f"不支持的校验算法“{algorithm}”，支持：{', '.join(CHECKSUM_ALGORITHMS)}",
                               code="checksum_algorithm", fields={"Upload-Checksum": ["不支持的算法"]})
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("Upload-Checksum 格式错误", fields={"Upload-Checksum": ["格式错误"]}) from None
    return algorithm, digest


def write_piece(store: AttachmentStore, piece: Piece, body: BinaryIO, *, checksum: tuple[str, bytes] | None,
                limits: VideoLimits) -> Written:
    """Append one piece to the partial file, streamed in blocks, hashing as it goes. Call it
    inside `writing`. A piece with a checksum is kept whole or not at all (460 on a mismatch, or
    if the client went away); one without keeps whatever arrived before a disconnect."""
    path = partial_path(store, piece.upload_id)
    running = RUNNING_HASHES.at(store, piece.upload_id, piece.offset)
    chunk_hasher = CHECKSUM_ALGORITHMS[checksum[0]]() if checksum else None
    room = min(piece.length - piece.offset, limits.max_chunk_bytes)
    written, disconnected = 0, False
    if not path.is_file():
        # The bytes were moved to the store but the completion's commit failed, or the file
        # was removed: this upload cannot go on; a new one finds the file if it is held.
        raise UploadGone("上传的临时文件已不存在，请重新创建上传", fields={"upload_id": ["临时文件已不存在"]})
    with open(path, "r+b") as out:
        out.truncate(piece.offset)  # bytes past the committed offset are from a piece that failed
        out.seek(piece.offset)
        writer = _Writer(out, chunk_hasher)
        try:
            while True:
                try:
                    block = body.read(_BLOCK)
                except PieceInterrupted:
                    disconnected = True
                    break
                if not block:
                    break
                if written + len(block) > room:
                    raise TooLarge(f"分片超出视频声明的长度或单次上限（最多还可发送 {room} 字节）",
                                   fields={"_body": [f"最多 {room} 字节"]})
                writer.put(block)
                running.update(block)
                written += len(block)
            writer.close()
            if checksum is not None and (disconnected or chunk_hasher.digest() != checksum[1]):
                raise ChecksumMismatch(fields={"Upload-Checksum": ["分片内容与校验和不符"]})
        except BaseException:
            writer.close(raise_error=False)
            out.truncate(piece.offset)
            raise
    new_offset = piece.offset + written
    RUNNING_HASHES.keep(piece.upload_id, new_offset, running)
    return Written(piece, new_offset, disconnected)


def commit_piece(session: Session, actor: audit.Actor, store: AttachmentStore, written: Written) -> VideoUpload:
    """Record the new offset (conditional on the old one); at the last byte, complete the
    upload: check the whole file, move it to its content address, write its attachment row.
    The caller commits, then settles the inspections waiting for the file."""
    piece = written.piece
    moved = session.execute(
        update(VideoUpload).where(VideoUpload.id == piece.upload_id, VideoUpload.upload_offset == piece.offset)
        .values(upload_offset=written.new_offset).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict("该上传已被另一个请求推进，请先查询偏移量", code="offset_mismatch",
                       fields={"Upload-Offset": ["偏移量已变化"]})
    if piece.offset < 12 <= written.new_offset:
        _check_container(store, piece)  # refuse a spoofed file early, not after gigabytes
    if written.new_offset == piece.length:
        _complete(session, actor, store, piece)
    return get(session, actor, piece.upload_id)


def _complete(session: Session, actor: audit.Actor, store: AttachmentStore, piece: Piece) -> None:
    hasher = RUNNING_HASHES.at(store, piece.upload_id, piece.length)
    digest = hasher.hexdigest()
    if digest != piece.sha256:
        raise Refused("视频内容的 SHA-256 与声明不符，文件可能在传输中损坏，已丢弃，请重新上传",
                               code="hash_mismatch", fields={"sha256": [f"实际内容的 SHA-256 为 {digest}"]})
    _check_container(store, piece)
    final = store.path_for(piece.sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(partial_path(store, piece.upload_id), final)
    RUNNING_HASHES.forget(piece.upload_id)
    session.execute(update(VideoUpload).where(VideoUpload.id == piece.upload_id)
                    .values(completed_at=utcnow()).execution_options(synchronize_session=False))
    record_received(session, actor, sha256=piece.sha256, size=piece.length, media_type=piece.media_type)


def container_kind(head: bytes) -> str | None:
    """The media type an ISO BMFF file's leading `ftyp` box names, or None: bytes 4–8 are
    `ftyp`, then the major brand, a minor version and the compatible brands."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[0:4], "big")
    end = min(len(head), box_size) if box_size >= 16 else 12
    brands = {head[8:12]} | {head[i:i + 4] for i in range(16, end - 3, 4)}
    if brands & _QUICKTIME_BRANDS:
        return "video/quicktime"
    if brands & _MP4_BRANDS:
        return "video/mp4"
    return None


def _check_container(store: AttachmentStore, piece: Piece) -> None:
    path = partial_path(store, piece.upload_id)
    with open(path, "rb") as fh:
        head = fh.read(256)
    kind = container_kind(head)
    if kind is None or (kind == "video/quicktime") != (piece.media_type == "video/quicktime"):
        raise _not_a_video(piece)


def _not_a_video(piece: Piece) -> Refused:
    return Refused(f"文件不是有效的 {piece.media_type} 视频（缺少相应的 ftyp 文件头），已拒收",
                            code="not_a_video", fields={"_body": ["不是有效的视频"]})


def discard_refused(session: Session, store: AttachmentStore, upload_id: str) -> None:
    """After a `Refused`: the upload and its bytes are removed (in the interface's own unit of
    work, since the refused one rolls back), and the removal is audited."""
    upload = session.get(VideoUpload, upload_id, populate_existing=True)
    if upload is not None:
        audit.record(session, REFUSAL_ACTOR, "video_upload.discard",
                     entity_type=VideoUpload.__tablename__, entity_id=upload.id, before=upload.audit_snapshot())
    _discard(session, store, upload_id)


def _discard(session: Session, store: AttachmentStore, upload_id: str) -> None:
    RUNNING_HASHES.forget(upload_id)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial_path(store, upload_id))
    session.execute(delete(VideoUpload).where(VideoUpload.id == upload_id))


def terminate(session: Session, actor: audit.Actor, store: AttachmentStore, upload_id: str) -> None:
    """tus termination: the upload and its partial bytes are removed. A completed upload's
    file stays in the store (other inspections may rely on it); only the upload is forgotten."""
    upload = get(session, actor, upload_id)
    audit.record(session, actor, "video_upload.terminate", entity_type=VideoUpload.__tablename__,
                 entity_id=upload.id, before=upload.audit_snapshot())
    _discard(session, store, upload.id)


def offsets_of(session: Session, sha256s: list[str]) -> dict[str, int]:
    """For videos still arriving: the most bytes any unfinished upload of each file holds."""
    if not sha256s:
        return {}
    rows = session.execute(
        select(VideoUpload.sha256, VideoUpload.upload_offset)
        .where(VideoUpload.sha256.in_(sha256s), VideoUpload.completed_at.is_(None))
    ).all()
    offsets: dict[str, int] = {}
    for sha256, offset in rows:
        offsets[sha256] = max(offsets.get(sha256, 0), offset)
    return offsets


def cleanup_expired(session: Session, store: AttachmentStore, *, now: datetime, limit: int) -> list[str]:
    """Remove up to `limit` expired uploads: their partial files and rows (a completed upload's
    file stays in the store). Returns their ids. The caller commits."""
    expired = session.execute(
        select(VideoUpload).where(VideoUpload.expires_at <= now).order_by(VideoUpload.expires_at).limit(limit)
    ).scalars().all()
    for upload in expired:
        if upload.completed_at is None:
            audit.record(session, SYSTEM_ACTOR, "video_upload.expire", entity_type=VideoUpload.__tablename__,
                         entity_id=upload.id, before=upload.audit_snapshot())
        _discard(session, store, upload.id)
    return [upload.id for upload in expired]

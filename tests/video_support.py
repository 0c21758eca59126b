"""Body-camera video tests: sample containers, the app under a real HTTP server, a tus client,
and a WSGI middleware that injects faults into PATCH bodies."""
from __future__ import annotations

import contextlib
import io
import threading
from datetime import timedelta

from tusclient.client import TusClient
from werkzeug.serving import make_server

from supervision.devices import service as devices
from supervision.extensions import db
from tests import factories
from tests.terminal import sha


def mp4(size: int = 300_000, seed: int = 0, brand: bytes = b"isom") -> bytes:
    """An ISO BMFF file: an `ftyp` box (major brand, minor version, compatible brands), then an
    `mdat` box of deterministic filler."""
    ftyp = (24).to_bytes(4, "big") + b"ftyp" + brand + (512).to_bytes(4, "big") + brand + b"mp42"
    filler = (bytes(range(256)) * (size // 256 + 2))[seed % 256:][: size - len(ftyp) - 8]
    return ftyp + (len(filler) + 8).to_bytes(4, "big") + b"mdat" + filler


def quicktime(size: int = 200_000) -> bytes:
    return mp4(size, brand=b"qt  ").replace(b"mp42", b"qt  ", 1)


def second_device(field):
    """A device of the partner inspector (same grid): its bearer headers."""
    device, code = devices.enrol_device(db.session, factories.ACTOR, badge_no=field.partner.badge_no, label="第二终端",
                                        code_ttl=timedelta(hours=1))
    db.session.commit()
    issued = devices.exchange_enrolment_code(db.session, code, token_ttl=timedelta(days=1))
    db.session.commit()
    return device, {"Authorization": f"Bearer {issued.token}"}


class Faults:
    """WSGI middleware: the next `cuts` PATCH bodies end after `after` bytes (the connection
    drops mid-piece), or have one byte flipped (`corrupt`), as a server-side fault would."""

    def __init__(self, app):
        self.app = app
        self.cuts, self.after, self.corrupt = 0, 0, 0
        self.faults_done = 0

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "PATCH" and (self.cuts or self.corrupt):
            original = environ["wsgi.input"]
            if self.cuts:
                self.cuts -= 1
                environ["wsgi.input"] = _Cut(original, self.after)
            else:
                self.corrupt -= 1
                environ["wsgi.input"] = _Flip(original)
            self.faults_done += 1
            try:
                return list(self.app(environ, start_response))
            finally:
                # what the "dropped" client still had in flight: read it off the socket
                length = int(environ.get("CONTENT_LENGTH") or 0)
                consumed = environ["wsgi.input"].consumed
                if length > consumed:
                    original.read(length - consumed)
        return self.app(environ, start_response)


class _Cut:
    def __init__(self, stream, after):
        self.stream, self.left, self.consumed = stream, after, 0

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        data = self.stream.read(min(size if size >= 0 else self.left, self.left))
        self.left -= len(data)
        self.consumed += len(data)
        return data

    def readline(self, size=-1):  # pragma: no cover - not used for octet streams
        return self.read(size)


class _Flip:
    def __init__(self, stream):
        self.stream, self.consumed, self.flipped = stream, 0, False

    def read(self, size=-1):
        data = self.stream.read(size)
        self.consumed += len(data)
        if data and not self.flipped:
            self.flipped = True
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return data

    def readline(self, size=-1):  # pragma: no cover
        return self.read(size)


@contextlib.contextmanager
def serving(app):
    """The app under werkzeug's threaded HTTP server on 127.0.0.1 (an ephemeral port)."""
    faults = Faults(app.wsgi_app)
    app.wsgi_app = faults
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", faults
    finally:
        server.shutdown()
        thread.join()
        app.wsgi_app = faults.app


def tus_client(base: str, headers: dict) -> TusClient:
    return TusClient(f"{base}/api/v1/uploads", headers=dict(headers))


def uploader(client: TusClient, data: bytes, *, declared: str | None = None,
             media_type: str = "video/mp4", chunk_size: int = 64 * 1024, checksum: bool = True, retries: int = 0):
    # From memory: tuspy leaves a file it opened by path unclosed after every piece.
    return client.uploader(file_stream=io.BytesIO(data), chunk_size=chunk_size, upload_checksum=checksum, retries=retries,
                           retry_delay=0, metadata={"sha256": declared or sha(data), "media_type": media_type})

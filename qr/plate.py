"""The URL a plate encodes, and its QR symbol.

The scheme and host are written in upper case (both are case-insensitive) and so are `/P/` and
the token, so they encode in QR alphanumeric mode. A path in the base URL (an instance served
under a prefix, e.g. `https://wsjd.example.gov.cn/hs`) keeps its case: a reverse proxy or an
application mount matches paths case-sensitively, and upper-casing it (as earlier versions did)
sent every scan of such an instance to a 404. A path that is already alphanumeric-mode text
(upper case, digits, `/`, `-`, `.`…) costs nothing; one with lower-case letters is put in a
byte-mode segment of its own, between two alphanumeric segments, so only that part costs 8 bits
a character instead of 5.5.

Every plate symbol must be version 4 or lower at level Q (25 % of the symbol may be scratched
or dirty and it still scans); `plate_symbol` refuses a base URL for which it would not be.
`HTTPS://WSJD.EXAMPLE.GOV.CN/P/` + a 10-character token is 40 characters: version 3.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import segno
from segno import consts

from supervision.errors import ValidationFailed

MAX_VERSION = 4
ERROR_LEVEL = "q"
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 requires
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


class PlateUrlTooLong(ValidationFailed):
    code = "plate_url_too_long"


def plate_url(public_base_url: str, token: str) -> str:
    """The URL printed in the plate: upper-case scheme and host, the base path as configured,
    then `/P/` and the token."""
    parts = urlsplit((public_base_url or "").strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_BASE_URL must be http(s)://host[/path], not {public_base_url!r}")
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path.rstrip('/')}/P/{token.upper()}"


def segments(url: str) -> list[tuple[str, str]]:
    """The URL cut into QR segments: alphanumeric runs, and byte-mode runs for anything else.
    A short alphanumeric run between two byte runs (a `/` in a lower-case path) joins them: a
    segment header costs more than it saves."""
    runs: list[list] = []
    for char in url:
        mode = "alphanumeric" if char in ALPHANUMERIC else "byte"
        if runs and runs[-1][1] == mode:
            runs[-1][0] += char
        else:
            runs.append([char, mode])
    merged: list[list] = []
    for i, (text, mode) in enumerate(runs):
        inner = 0 < i < len(runs) - 1
        if mode == "alphanumeric" and inner and len(text) < 6:
            mode = "byte"
        if merged and merged[-1][1] == mode:
            merged[-1][0] += text
        else:
            merged.append([text, mode])
    return [(text, mode) for text, mode in merged]


def plate_symbol(url: str) -> segno.QRCode:
    """The plate's QR symbol at level Q, version 4 or lower, or PlateUrlTooLong."""
    modes = {"alphanumeric": consts.MODE_ALPHANUMERIC, "byte": consts.MODE_BYTE}
    symbol = segno.make_qr([(text, modes[mode]) for text, mode in segments(url)], error=ERROR_LEVEL,
                           boost_error=False)
    if symbol.version > MAX_VERSION:
        raise PlateUrlTooLong(
            f"标牌网址过长（{len(url)}个字符）：二维码需第{symbol.version}版，超过第{MAX_VERSION}版，"
            "请缩短 PUBLIC_BASE_URL", fields={"PUBLIC_BASE_URL": [f"二维码需第{symbol.version}版"]})
    return symbol


def plate_png(url: str, box_size: int = 10) -> bytes:
    """The bare symbol as a PNG, with its quiet zone."""
    import io

    buffer = io.BytesIO()
    plate_symbol(url).save(buffer, kind="png", scale=box_size, border=QUIET_ZONE)
    return buffer.getvalue()

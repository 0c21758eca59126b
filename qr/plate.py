"""The URL a plate encodes, and its QR symbol.

The URL is written in upper case (host names are case-insensitive and the plate route accepts
/P/) so it encodes in QR alphanumeric mode: a plate URL of about 36 characters then fits
version 3 at error-correction level Q, which survives a scratched or dirty plate.
"""
from __future__ import annotations

import io

import qrcode
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.util import MODE_ALPHA_NUM, QRData


def plate_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/P/{token}".upper()


def plate_png(url: str, box_size: int = 10) -> bytes:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, box_size=box_size, border=4)
    alphanumeric = all(c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" for c in url)
    code.add_data(QRData(url, mode=MODE_ALPHA_NUM) if alphanumeric else url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()

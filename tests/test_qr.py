"""Plate URLs fit a small, sturdy QR symbol."""
import io

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_Q
from qrcode.util import MODE_ALPHA_NUM, QRData

from qr.plate import plate_png, plate_url
from supervision.registry.plates import TOKEN_LENGTH, new_token


def test_plate_url_is_upper_case_for_alphanumeric_mode():
    url = plate_url("https://hs.example.cn/", "ab23cd45ef")
    assert url == "HTTPS://HS.EXAMPLE.CN/P/AB23CD45EF"


def test_plate_url_of_about_36_characters_is_a_version_3_symbol_at_level_q():
    url = plate_url("https://wsjd.nj.gov.cn", new_token())
    assert len(url) == len("HTTPS://WSJD.NJ.GOV.CN/P/") + TOKEN_LENGTH
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q)
    code.add_data(QRData(url, mode=MODE_ALPHA_NUM))
    code.make(fit=True)
    assert code.version <= 3


def test_plate_png_is_a_square_image():
    image = Image.open(io.BytesIO(plate_png(plate_url("https://hs.example.cn", new_token()))))
    assert image.format == "PNG" and image.width == image.height


def test_plate_page_answers_the_upper_case_url(client, app):
    from tests import factories

    factories.jurisdiction()
    est = factories.establishment()
    url = plate_url(app.config["PUBLIC_BASE_URL"], est.active_plate.token)
    response = client.get(url.split(".CN", 1)[1])
    assert response.status_code == 200 and est.name in response.get_data(as_text=True)

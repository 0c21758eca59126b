"""Plate URLs fit a small, sturdy QR symbol, and the project's own PNG decodes to them."""
import io

import pytest
import zxingcpp
from PIL import Image
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from qr.plate import PlateUrlTooLong, plate_png, plate_symbol, plate_url
from supervision.registry.plates import TOKEN_LENGTH, new_token
from tests import factories

PRODUCTION = "https://wsjd.example.gov.cn"


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_plate_url_is_upper_case_for_alphanumeric_mode():
    url = plate_url("https://hs.example.cn/", "ab23cd45ef")
    assert url == "HTTPS://HS.EXAMPLE.CN/P/AB23CD45EF"


def test_a_production_plate_url_is_version_3_at_level_q():
    url = plate_url(PRODUCTION, new_token())
    assert len(url) == len("HTTPS://WSJD.EXAMPLE.GOV.CN/P/") + TOKEN_LENGTH
    symbol = plate_symbol(url)
    assert (symbol.version, symbol.error) == (3, "Q")


def test_a_base_url_with_a_path_keeps_the_path_case():
    url = plate_url("https://wsjd.example.gov.cn/hs/", "AB23CD45EF")
    assert url == "HTTPS://WSJD.EXAMPLE.GOV.CN/hs/P/AB23CD45EF"


def test_a_base_url_with_a_lower_case_path_is_still_version_4_or_lower_at_q():
    symbol = plate_symbol(plate_url("https://wsjd.example.gov.cn/wsjd/plates", new_token()))
    assert symbol.version <= 4 and symbol.error == "Q"


def test_a_base_url_too_long_for_version_4_is_refused():
    with pytest.raises(PlateUrlTooLong, match="第4版"):
        plate_symbol(plate_url("https://health-supervision-institute.example.gov.cn/public/plates/v1", new_token()))


def test_plate_png_decodes_to_exactly_the_plate_url():
    url = plate_url("https://wsjd.example.gov.cn/hs", new_token())
    assert decode(plate_png(url)) == [url]


def test_plate_page_answers_the_upper_case_url(client, app):
    factories.jurisdiction()
    est = factories.establishment()
    url = plate_url(app.config["PUBLIC_BASE_URL"], est.active_plate.token)
    response = client.get(url.split(".CN", 1)[1])
    assert response.status_code == 200 and est.name in response.get_data(as_text=True)


def test_an_instance_under_a_path_prefix_serves_the_decoded_url(app):
    """The plate of an instance mounted at /hs (a reverse proxy or a WSGI mount, both
    case-sensitive) leads to the page: the path is not upper-cased."""
    factories.jurisdiction()
    est = factories.establishment()
    url = plate_url("https://wsjd.example.gov.cn/hs", est.active_plate.token)
    [decoded] = decode(plate_png(url))
    mounted = Client(DispatcherMiddleware(lambda env, start: (start("404 Not Found", []), [b""])[1], {"/hs": app}))
    response = mounted.get(decoded.split(".CN", 1)[1])
    assert response.status_code == 200 and est.name in response.get_data(as_text=True)


def test_version_4_at_q_holds_a_host_and_path_of_46_characters_and_no_more():
    """32**10 tokens of 10 characters; `HTTPS://` + `/P/` + token leave 46 of version 4-Q's 67
    alphanumeric characters for the host (docs/plates.md)."""
    host = "WSJD." + "A" * 35 + ".GOV.CN"
    assert len(host) == 47
    assert plate_symbol(plate_url(f"https://{host[1:]}", new_token())).version == 4
    with pytest.raises(PlateUrlTooLong):
        plate_symbol(plate_url(f"https://{host}", new_token()))

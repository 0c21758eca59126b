"""The public plate page: what a citizen sees after scanning, and what it costs to serve."""
from datetime import date

from supervision.registry.service import LicenceInput
from tests import factories


def _establishment_with(licences: int):
    return factories.establishment(licences=[
        LicenceInput(f"玄卫公字〔2024〕第{n:04d}号", "公共场所卫生许可证", date(2024, 1, 1), date(2028, 1, 1))
        for n in range(licences)
    ])


def test_plate_page_lists_every_licence_and_no_private_data(client, app):
    factories.jurisdiction()
    est = _establishment_with(3)
    page = client.get(f"/P/{est.active_plate.token}").get_data(as_text=True)
    assert page.count("公共场所卫生许可证") == 3
    assert "13800000000" not in page


def test_plate_page_query_count_does_not_grow_with_licences(client, app, count_queries):
    factories.jurisdiction()
    small, large = _establishment_with(1), _establishment_with(8)
    from supervision.extensions import db

    db.session.commit()
    costs = []
    for est in (small, large):
        token = est.active_plate.token
        db.session.expire_all()
        with count_queries() as n:
            assert client.get(f"/P/{token}").status_code == 200
        costs.append(n())
    assert costs[0] == costs[1] <= 8  # token, public version, then the page (tests/test_plate_page.py)

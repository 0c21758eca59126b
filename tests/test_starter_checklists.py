"""The starter checklists cover every registry category, with real legal bases."""
import re

from supervision.checklists import service as checklists
from supervision.extensions import db
from supervision.registry.categories import CATEGORIES
from tests import factories


def test_every_registry_category_has_a_published_starter_checklist(app):
    """Terminals can only inspect what a checklist covers; "other" (其他) is the one category
    without a checklist of its own."""
    checklists.load_directory(db.session, factories.ACTOR)
    covered = {c for v in checklists.versions_in_use(db.session) for c in v.template.categories}
    assert {code for code, _, _ in CATEGORIES} - covered == {"other"}


def test_starter_legal_bases_cite_laws_regulations_or_standards(app):
    checklists.load_directory(db.session, factories.ACTOR)
    citation = re.compile(r"《[^》]+》|\b(?:GB|GBZ|WS)(?:/T)? \d")
    for version in checklists.versions_in_use(db.session):
        for item in version.items:
            assert citation.search(item.legal_basis), (version.template.code, item.code, item.legal_basis)

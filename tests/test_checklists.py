"""Checklist versions: immutable once published, a change is a new version."""
import copy

import pytest
from sqlalchemy import func, select

from supervision.checklists import service as checklists
from supervision.checklists.models import ChecklistItem, ChecklistVersion
from supervision.errors import Conflict, ValidationFailed
from supervision.extensions import db
from tests import factories
from tests.terminal import CHECKLIST

STARTER = {"accommodation", "medical", "drinking_water", "swimming", "beauty_hairdressing", "bathing"}


def test_starter_set_loads_through_the_cli(runner, app):
    result = runner.invoke(args=["checklists", "load"])
    assert result.exit_code == 0, result.output
    codes = {v.template.code for v in checklists.all_versions(db.session)}
    assert STARTER <= codes
    assert result.output.count("published") == len(codes)


def test_starter_set_is_realistic(app):
    checklists.load_directory(db.session, factories.ACTOR)
    for version in checklists.versions_in_use(db.session):
        items = version.items
        assert len(items) >= 15, version.template.code
        assert any(i.checks_commitment for i in items), "every checklist checks the credit commitment (践诺)"
        assert any(i.answer_type == "photo" and i.required for i in items)
        assert all(i.legal_basis and i.text for i in items)
        assert "卫生" in version.template.title or "检查" in version.template.title


def test_loading_the_same_definitions_again_publishes_nothing(runner, app):
    runner.invoke(args=["checklists", "load"])
    before = db.session.scalar(select(func.count()).select_from(ChecklistVersion))
    result = runner.invoke(args=["checklists", "load"])
    assert "published" not in result.output and "unchanged" in result.output
    assert db.session.scalar(select(func.count()).select_from(ChecklistVersion)) == before


def test_a_changed_definition_is_a_new_version_and_the_old_one_is_untouched(app):
    first, created = checklists.publish(db.session, factories.ACTOR, CHECKLIST)
    db.session.commit()
    old_items = [(i.code, i.text) for i in first.items]
    changed = copy.deepcopy(CHECKLIST)
    changed["items"][0]["text"] = "持有有效的公共场所卫生许可证并在醒目位置公示"
    second, created_again = checklists.publish(db.session, factories.ACTOR, changed)
    db.session.commit()
    assert created and created_again and (first.version, second.version) == (1, 2)
    db.session.expire_all()
    assert [(i.code, i.text) for i in db.session.get(ChecklistVersion, first.id).items] == old_items
    assert second.items[0].text.endswith("醒目位置公示")


def test_invalid_definition_is_refused_with_every_problem(app):
    broken = copy.deepcopy(CHECKLIST)
    broken["items"][0]["severity"] = "fatal"
    broken["items"][1]["code"] = broken["items"][0]["code"]
    broken["categories"] = ["spaceship"]
    with pytest.raises(ValidationFailed) as refused:
        checklists.publish(db.session, factories.ACTOR, broken)
    assert {"items.0.severity", "items.1.code", "categories"} <= set(refused.value.fields)
    assert db.session.scalar(select(func.count()).select_from(ChecklistItem)) == 0


def test_retired_version_leaves_the_versions_in_use(runner, app):
    checklists.publish(db.session, factories.ACTOR, CHECKLIST)
    db.session.commit()
    result = runner.invoke(args=["checklists", "retire", CHECKLIST["code"], "1"])
    assert result.exit_code == 0
    assert checklists.versions_in_use(db.session) == []
    with pytest.raises(Conflict):
        checklists.retire(db.session, factories.ACTOR, CHECKLIST["code"], 1)

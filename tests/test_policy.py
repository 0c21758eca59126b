"""The dated, per-jurisdiction policy loader that every policy kind is built on."""
from datetime import date
from pathlib import Path

import pytest

from supervision import policy
from supervision.policy import PolicyInvalid, PolicySet


def _window(data: dict) -> int:
    policy.refuse_unknown(data, {"days"})
    days = policy.require(data, "days", int)
    if days < 0:
        raise PolicyInvalid("不能为负数", key="days")
    return days


policy.register_kind("test_window", _window)


def _write(root: Path, jurisdiction: str, day: str, text: str) -> Path:
    path = root / "test_window" / jurisdiction / f"{day}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_district_inherits_from_city_until_it_has_its_own(tmp_path):
    _write(tmp_path, "default", "2020-01-01", "days = 10\n")
    _write(tmp_path, "320100", "2023-01-01", "days = 20\n")
    _write(tmp_path, "320102", "2024-07-01", "days = 30\n")
    rules = PolicySet.load("test_window", [tmp_path])
    chain = ["320102", "320100", "320000"]
    assert rules.resolve(chain, date(2022, 12, 31)).value == 10
    assert rules.resolve(chain, date(2023, 1, 1)).value == 20
    assert rules.resolve(chain, date(2024, 6, 30)).value == 20
    assert rules.resolve(chain, date(2024, 7, 1)).value == 30
    assert rules.resolve(["320105", "320100"], date(2024, 7, 1)).value == 20


def test_instance_file_replaces_packaged_one_of_same_date(tmp_path):
    _write(tmp_path / "a", "default", "2020-01-01", "days = 10\n")
    _write(tmp_path / "b", "default", "2020-01-01", "days = 11\n")
    rules = PolicySet.load("test_window", [tmp_path / "a", tmp_path / "b"])
    document = rules.resolve([], date(2021, 1, 1))
    assert document.value == 11 and len(document.sha256) == 64


@pytest.mark.parametrize("text, key, reason", [
    ("days = -1\n", "days", "不能为负数"),
    ("days = 'x'\n", "days", "类型错误"),
    ("weeks = 1\ndays = 1\n", "weeks", "未知的配置项"),
    ("days = \n", "", "不是有效的 TOML"),
])
def test_bad_document_names_file_key_and_reason(tmp_path, text, key, reason):
    path = _write(tmp_path, "default", "2020-01-01", text)
    with pytest.raises(PolicyInvalid) as caught:
        PolicySet.load("test_window", [tmp_path])
    assert str(path) in caught.value.message and reason in caught.value.message
    assert caught.value.key == key


def test_file_name_must_be_its_effective_date(tmp_path):
    _write(tmp_path, "default", "2020-01-01", "days = 1\n").rename(tmp_path / "test_window" / "default" / "new.toml")
    with pytest.raises(PolicyInvalid, match="生效日期"):
        PolicySet.load("test_window", [tmp_path])


def test_a_kind_without_a_default_is_refused(tmp_path):
    _write(tmp_path, "320100", "2020-01-01", "days = 1\n")
    with pytest.raises(PolicyInvalid, match="缺少默认策略"):
        PolicySet.load("test_window", [tmp_path])

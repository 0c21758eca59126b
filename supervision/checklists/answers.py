"""Checking answers to a checklist version, and what an answer means (pass, fail, not
applicable): one rule for every party that fills a checklist — an inspector's submission and an
establishment's self-inspection — so that the two can never read the same answer differently."""
from __future__ import annotations

from typing import Callable, Iterable

from supervision.checklists.models import ChecklistItem

Add = Callable[[str, str], None]


def check_answers(answers: list[dict], items: dict[str, ChecklistItem], add: Add, *,
                  photo_items: Iterable[str] = ()) -> None:
    """Report, through `add(path, message)`, every problem of `answers` (dicts with item_code,
    result, number, text) against the version's `items`: unknown or repeated items, an answer of
    the wrong kind, an implausible measurement, a required item left out. `photo_items` are the
    codes that a photo answers."""
    if not items:
        return
    answered = set()
    photo_items = set(photo_items)
    for i, answer in enumerate(answers):
        code = answer["item_code"]
        item = items.get(code)
        path = f"answers.{i}"
        if item is None:
            add(f"{path}.item_code", f"检查表中没有项目“{code}”")
            continue
        if code in answered:
            add(f"{path}.item_code", f"项目“{code}”重复作答")
        answered.add(code)
        if item.answer_type == "pass_fail" and answer.get("result") is None:
            add(f"{path}.result", "请填写检查结果（合格/不合格/不适用）")
        elif item.answer_type == "number" and answer.get("number") is None and answer.get("result") != "na":
            add(f"{path}.number", f"请填写检测值（单位：{item.unit}）")
        elif item.answer_type == "number" and answer.get("number") is not None and item.implausible(answer["number"]):
            add(f"{path}.number", item.implausible(answer["number"]))
        elif item.answer_type == "text" and item.required and not (answer.get("text") or "").strip():
            add(f"{path}.text", "请填写内容")
    for code, item in items.items():
        if not item.required:
            continue
        if item.answer_type == "photo":
            if code not in photo_items and code not in answered:
                add("answers", f"必填项目“{code} {item.text}”缺少照片")
        elif code not in answered:
            add("answers", f"必填项目“{code} {item.text}”未作答")


def result_of(item: ChecklistItem, answer: dict) -> str:
    """What an answer means: a measurement outside the legal limits fails, `na` is not applicable,
    an unanswered pass/fail (a photo or text item) passes."""
    if answer.get("result") == "na":
        return "na"
    if item.answer_type == "number" and answer.get("number") is not None:
        return "pass" if item.within_limits(answer["number"]) else "fail"
    return answer.get("result") or "pass"

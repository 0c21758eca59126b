"""A task closed by one inspection cannot be closed again by another: that would open a second
rectification order and re-inspection task. A correction of the inspection that closed it may
still cite it."""
from sqlalchemy import func, select

from supervision.extensions import db
from supervision.inspections import tasks
from supervision.inspections.models import RectificationOrder, Task
from tests import factories

URL = "/api/v1/inspections"
FAILING = [{"item_code": "T01", "result": "pass"}, {"item_code": "T02", "result": "fail"},
           {"item_code": "T03", "number": 0.05}]


def closed_task(client, field) -> tuple[Task, dict]:
    task = tasks.create_task(db.session, factories.ACTOR, establishment_credit_code=field.establishment.credit_code,
                             kind="random")
    db.session.commit()
    first = field.submission(task_id=task.id, answers=FAILING)
    assert client.post(URL, json=first, headers=field.headers).status_code == 201
    return task, first


def orders_and_tasks() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(RectificationOrder)),
            db.session.scalar(select(func.count()).select_from(Task)))


def test_a_second_inspection_citing_a_closed_task_is_refused_and_opens_nothing(client, field):
    task, _ = closed_task(client, field)
    before = orders_and_tasks()
    response = client.post(URL, json=field.submission(task_id=task.id, answers=FAILING), headers=field.headers)
    assert response.status_code == 422
    assert "任务已完成" in response.get_json()["error"]["fields"]["task_id"][0]
    assert orders_and_tasks() == before


def test_a_correction_of_the_inspection_that_closed_the_task_may_cite_it(client, field):
    task, first = closed_task(client, field)
    correction = field.submission(task_id=task.id, replaces=first["uuid"], answers=FAILING, notes="更正")
    response = client.post(URL, json=correction, headers=field.headers)
    assert response.status_code == 201
    db.session.refresh(task)
    assert task.status == "done"

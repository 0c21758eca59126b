"""A field setup for terminal API tests: a grid with establishments, two inspectors, a
published checklist and an enrolled device, plus builders for submissions and photos."""
from __future__ import annotations

import hashlib
import io
import uuid as uuidlib
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image

from supervision.checklists import service as checklists
from supervision.devices import service as devices
from supervision.extensions import db
from tests import factories

CHECKLIST = {
    "code": "test_accommodation",
    "title": "住宿场所卫生监督检查表（测试）",
    "specialty": "公共场所卫生",
    "categories": ["accommodation"],
    "items": [
        {"code": "T01", "section": "卫生许可", "text": "持有有效的公共场所卫生许可证",
         "legal_basis": "《公共场所卫生管理条例》第八条", "severity": "critical", "answer_type": "pass_fail",
         "required": True, "checks_commitment": False},
        {"code": "T02", "section": "从业人员", "text": "从业人员持有有效健康合格证明",
         "legal_basis": "《公共场所卫生管理条例实施细则》第十条", "severity": "major", "answer_type": "pass_fail",
         "required": True, "checks_commitment": True},
        {"code": "T03", "section": "室内空气", "text": "客房室内空气甲醛浓度",
         "legal_basis": "GB 37488-2019", "severity": "minor", "answer_type": "number", "unit": "mg/m³",
         "min": None, "max": 0.10, "plausible_min": 0, "plausible_max": 100, "required": True,
         "checks_commitment": False},
        {"code": "T04", "section": "现场记录", "text": "现场照片：许可证公示情况",
         "legal_basis": "《公共场所卫生管理条例实施细则》第二十二条", "severity": "minor", "answer_type": "photo",
         "required": True, "checks_commitment": False},
        {"code": "T05", "section": "其他", "text": "其他需要说明的情况", "legal_basis": "—", "severity": "minor",
         "answer_type": "text", "required": False, "checks_commitment": False},
    ],
}

ESTABLISHMENT_LAT, ESTABLISHMENT_LNG = 32.0603, 118.7969


def png(seed: int = 0, size=(32, 24)) -> bytes:
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Field:
    establishment: object
    other_establishment: object  # same jurisdiction, a grid the device's inspector does not cover
    inspector: object
    partner: object
    version: object
    device: object
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def photo(self, seed: int = 1) -> bytes:
        return png(seed)

    def submission(self, **overrides) -> dict:
        """A valid submission: every required item answered, one photo, a signature."""
        photo, signature = png(1), png(2)
        body = {
            "uuid": str(uuidlib.uuid4()),
            "establishment_id": self.establishment.id,
            "checklist_version_id": self.version.id,
            "inspectors": [self.inspector.badge_no, self.partner.badge_no],
            "started_at": "2026-11-20T09:30:00+08:00",
            "ended_at": "2026-11-20T10:15:00+08:00",
            "gps": {"lat": ESTABLISHMENT_LAT + 0.0005, "lng": ESTABLISHMENT_LNG, "accuracy_m": 12.5},
            "answers": [
                {"item_code": "T01", "result": "pass"},
                {"item_code": "T02", "result": "pass"},
                {"item_code": "T03", "number": 0.05},
            ],
            "notes": "现场检查未见异常",
            "signature": {"signer_name": "王建国", "signer_role": "法定代表人", "sha256": sha(signature)},
            "attachments": [
                {"sha256": sha(photo), "size": len(photo), "media_type": "image/png", "item_code": "T04"},
                {"sha256": sha(signature), "size": len(signature), "media_type": "image/png", "purpose": "signature"},
            ],
        }
        body.update(overrides)
        return body

    @staticmethod
    def files_of(submission: dict) -> dict[str, bytes]:
        """The bytes behind a submission built by `submission()` (seeds 1 and 2)."""
        return {sha(png(1)): png(1), sha(png(2)): png(2)}


def make_field(app) -> Field:
    district = factories.jurisdiction()
    grid, other_grid = factories.grid(district), factories.grid(district)
    est = factories.establishment(grid=grid.code, latitude=ESTABLISHMENT_LAT, longitude=ESTABLISHMENT_LNG)
    other = factories.establishment(grid=other_grid.code, name="南京市玄武区远方宾馆")
    today = date.today()
    inspector = factories.inspector(district, grids=[grid], valid_from=today - timedelta(days=3650),
                                    valid_until=today + timedelta(days=3650))
    partner = factories.inspector(district, grids=[grid], valid_from=today - timedelta(days=3650),
                                  valid_until=today + timedelta(days=3650))
    version, _ = checklists.publish(db.session, factories.ACTOR, CHECKLIST)
    device, code = devices.enrol_device(db.session, factories.ACTOR, badge_no=inspector.badge_no, label="测试终端",
                                        code_ttl=timedelta(hours=1))
    db.session.commit()
    issued = devices.exchange_enrolment_code(db.session, code, token_ttl=timedelta(days=1))
    db.session.commit()
    return Field(est, other, inspector, partner, version, device, issued.token)


def upload(client, field: Field, data: bytes, media_type="image/png", address: str | None = None):
    return client.put(f"/api/v1/attachments/{address or sha(data)}", data=data,
                      headers={**field.headers, "Content-Type": media_type})

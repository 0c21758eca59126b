"""The bench's field: a scratch PostgreSQL database with a district, grids, establishments,
inspectors, a checklist and enrolled devices, built through the services; and what the
simulated terminals send (submissions with JPEG photos and a PNG signature)."""
from __future__ import annotations

import hashlib
import io
import json
import math
import random
import time
import uuid as uuidlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from PIL import Image, ImageDraw

from tests.terminal import CHECKLIST as TEST_CHECKLIST

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHINA = timezone(timedelta(hours=8))

# The checklist the tests use, under its own code: 3 answers, a required photo, optional text.
CHECKLIST = dict(TEST_CHECKLIST, code="bench_accommodation", title="住宿场所卫生监督检查表（压测）")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)



def _admin(admin_url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def create_scratch_database(admin_url: str) -> tuple[str, str]:
    """A new, empty database named hs_bench_<random>; returns (name, its URL)."""
    from sqlalchemy.engine import make_url

    name = f"hs_bench_{uuidlib.uuid4().hex[:10]}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, name: str) -> None:
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_config(database_url: str, attachment_dir: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "ATTACHMENT_DIR": str(attachment_dir),
        "SECRET_KEY": "bench-only-secret",
        "PUBLIC_BASE_URL": "https://hs.example.cn",
    }


@dataclass
class DeviceProfile:
    """What one simulated terminal knows after enrolment and its first sync."""

    index: int
    token: str
    badge_no: str
    partner_badge_no: str
    checklist_version_id: int
    establishments: list[tuple[int, float, float]]  # (id, lat, lng) of the grid's establishments


def build_field(database_url: str, attachment_dir: Path, devices: int, grids: int,
                establishments_per_grid: int) -> list[DeviceProfile]:
    """Migrate the scratch database and create the field through the services (so every row
    has its audit entry, as in production); one enrolled device per simulated terminal."""
    from flask_migrate import upgrade

    from supervision import audit
    from supervision.app import create_app
    from supervision.checklists import service as checklists
    from supervision.devices import service as device_service
    from supervision.extensions import db
    from supervision.registry import credit_code
    from supervision.registry import service as registry
    from supervision.registry.service import EstablishmentInput, LicenceInput

    actor = audit.Actor.cli("bench")
    app = create_app(app_config(database_url, attachment_dir))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        province = registry.create_jurisdiction(db.session, actor, code="320000", name="江苏省", level="province")
        city = registry.create_jurisdiction(db.session, actor, code="320100", name="南京市", level="city", parent=province)
        district = registry.create_jurisdiction(db.session, actor, code="320102", name="玄武区", level="district",
                                                parent=city)
        grid_rows = [registry.create_grid(db.session, actor, code=f"BG{g:03d}", name=f"压测第{g + 1}网格",
                                          jurisdiction=district) for g in range(grids)]
        db.session.flush()
        lookups = registry.RegistryLookups(db.session)
        establishments: dict[int, list] = defaultdict(list)
        serial = 0
        for g, grid in enumerate(grid_rows):
            for e in range(establishments_per_grid):
                serial += 1
                lat, lng = 32.0 + g * 0.01 + e * 0.001, 118.75 + e * 0.001
                est, _ = registry.upsert_establishment(db.session, EstablishmentInput(
                    credit_code=credit_code.complete(f"91320100{serial:08d}"),
                    name=f"南京市玄武区压测宾馆{serial}号有限公司", category="accommodation",
                    address=f"江苏省南京市玄武区中山路{serial}号", district="320102",
                    legal_representative="王建国", grid=grid.code, latitude=lat, longitude=lng,
                    licences=[LicenceInput(f"玄卫公字〔2024〕第{serial:04d}号", "公共场所卫生许可证",
                                           date(2024, 1, 1), date(2028, 1, 1))],
                ), actor, lookups)
                establishments[g].append(est)
        # One inspector per device, dealt round-robin over the grids, and at least two per grid,
        # so every device has a certified partner in its own grid.
        today = date.today()
        per_grid = max(2, math.ceil(devices / grids))
        inspectors_by_grid: dict[int, list] = defaultdict(list)
        for g, grid in enumerate(grid_rows):
            for k in range(per_grid):
                n = g * per_grid + k + 1
                inspectors_by_grid[g].append(registry.create_inspector(
                    db.session, actor, badge_no=f"BB{n:05d}", name=f"压测检查员{n}", certificate_no=f"苏卫执证{n:06d}",
                    certificate_valid_from=today - timedelta(days=3650),
                    certificate_valid_until=today + timedelta(days=3650),
                    jurisdiction=district, grids=[grid], phone="13800000000"))
        version, _ = checklists.publish(db.session, actor, CHECKLIST)
        db.session.flush()
        enrolled = []
        for i in range(devices):
            g, k = i % grids, (i // grids) % per_grid
            inspector = inspectors_by_grid[g][k]
            partner = inspectors_by_grid[g][(k + 1) % per_grid]
            _, code = device_service.enrol_device(db.session, actor, badge_no=inspector.badge_no,
                                                  label=f"压测终端{i + 1}", code_ttl=timedelta(hours=1))
            enrolled.append((i, g, inspector.badge_no, partner.badge_no, code))
        db.session.commit()
        profiles = []
        for i, g, badge, partner_badge, code in enrolled:
            issued = device_service.exchange_enrolment_code(db.session, code, token_ttl=timedelta(days=1))
            db.session.commit()
            profiles.append(DeviceProfile(
                index=i, token=issued.token, badge_no=badge, partner_badge_no=partner_badge,
                checklist_version_id=version.id,
                establishments=[(e.id, e.latitude, e.longitude) for e in establishments[g]],
            ))
        db.session.remove()
        db.engine.dispose()
    return profiles



@dataclass
class PlannedInspection:
    """One inspection as a device holds it: the JSON body and the files its manifest names."""

    uuid: str
    body: bytes  # the submission, serialised once, sent byte for byte on every try
    files: dict[str, tuple[str, bytes]]  # sha256 -> (media type, bytes)

    def multipart(self, leave_out: set[str]) -> tuple[bytes, str]:
        """The one-request form: the submission part and every file not left out, each part
        named by its SHA-256, as OpenRosa clients send them. Returns (body, content type)."""
        boundary = "hs-" + self.uuid.replace("-", "")
        parts = [(f'--{boundary}\r\nContent-Disposition: form-data; name="submission"; filename="submission.json"'
                  f'\r\nContent-Type: application/json\r\n\r\n').encode("ascii") + self.body + b"\r\n"]
        for sha, (media_type, data) in self.files.items():
            if sha not in leave_out:
                parts.append((f'--{boundary}\r\nContent-Disposition: form-data; name="{sha}"; filename="{sha}"'
                              f'\r\nContent-Type: {media_type}\r\n\r\n').encode("ascii") + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode("ascii"))
        return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def make_photo(rng: random.Random, label: str) -> bytes:
    """A 320x240 JPEG, different for every inspection (noise plus the label drawn in)."""
    noise = Image.effect_noise((320, 240), 40).convert("RGB")
    tint = Image.new("RGB", (320, 240), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(noise, tint, 0.5)
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.randrange(300), rng.randrange(220)
        draw.rectangle((x, y, x + rng.randrange(10, 80), y + rng.randrange(10, 60)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    draw.text((8, 8), label, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def make_signature(rng: random.Random, label: str) -> bytes:
    """A small PNG 'signature': a scribble on white, unique per inspection."""
    image = Image.new("L", (240, 80), 255)
    draw = ImageDraw.Draw(image)
    points = [(10 + i * 22, rng.randrange(15, 65)) for i in range(11)]
    draw.line(points, fill=0, width=3)
    draw.text((4, 66), label, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def plan_inspection(profile: DeviceProfile, rng: random.Random, n: int, photos: int = 2) -> PlannedInspection:
    """A valid submission for one of the device's establishments, with its files: `photos`
    JPEGs (the first one answers the photo item T04) and the counterpart's signature."""
    uuid = str(uuidlib.UUID(int=rng.getrandbits(128), version=4))
    est_id, lat, lng = rng.choice(profile.establishments)
    files = {}
    manifest = []
    for k in range(photos):
        photo = make_photo(rng, f"{uuid} photo {k + 1}")
        files[sha256_hex(photo)] = ("image/jpeg", photo)
        manifest.append({"sha256": sha256_hex(photo), "size": len(photo), "media_type": "image/jpeg"}
                        | ({"item_code": "T04"} if k == 0 else {}))
    signature = make_signature(rng, uuid[:8])
    files[sha256_hex(signature)] = ("image/png", signature)
    manifest.append({"sha256": sha256_hex(signature), "size": len(signature), "media_type": "image/png",
                     "purpose": "signature"})
    started = datetime.now(CHINA).replace(microsecond=0) - timedelta(hours=rng.randrange(1, 48))
    failing = rng.random() < 0.1  # some inspections find a problem: findings, an order, a task
    body = {
        "uuid": uuid,
        "establishment_id": est_id,
        "checklist_version_id": profile.checklist_version_id,
        "inspectors": [profile.badge_no, profile.partner_badge_no],
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=45)).isoformat(),
        "gps": {"lat": lat + rng.uniform(-0.0005, 0.0005), "lng": lng + rng.uniform(-0.0005, 0.0005),
                "accuracy_m": round(rng.uniform(5, 30), 1)},
        "answers": [
            {"item_code": "T01", "result": "pass"},
            {"item_code": "T02", "result": "fail" if failing else "pass",
             "note": "2名从业人员健康证过期" if failing else None},
            {"item_code": "T03", "number": round(rng.uniform(0.02, 0.09), 3)},
            {"item_code": "T05", "text": f"压测第{n + 1}条检查记录"},
        ],
        "notes": "现场检查，终端压测",
        "signature": {"signer_name": "王建国", "signer_role": "法定代表人", "sha256": sha256_hex(signature)},
        "attachments": manifest,
    }
    return PlannedInspection(uuid, json.dumps(body, ensure_ascii=False).encode("utf-8"), files)

"""Configuration read from the environment once, with safe defaults.

Nothing secret is a constant here: the secret key defaults to a random value generated once
into the instance folder, so a fresh checkout works and two installations never share a key.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def instance_secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, creating it on first use."""
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # O_EXCL: when two workers start at once, only one writes; the other reads its key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    """Build the Flask config mapping from environment variables."""
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'supervision.db'}"
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or instance_secret_key(instance_path),
        # What printed plates point at; citizens' phones open this host.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        # Where uploaded inspection attachments are stored, content-addressed.
        "ATTACHMENT_DIR": os.environ.get("ATTACHMENT_DIR") or str(instance_path / "attachments"),
        # Largest JSON body and largest single attachment the API accepts.
        "MAX_JSON_BYTES": _int("MAX_JSON_BYTES", 2 * 1024 * 1024),
        "MAX_ATTACHMENT_BYTES": _int("MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024),
        # Body-camera video, uploaded resumably (tus): largest file, largest single PATCH body,
        # and how long an unfinished upload is kept before cleanup removes it.
        "MAX_VIDEO_BYTES": _int("MAX_VIDEO_BYTES", 2 * 1024 ** 3),
        "MAX_VIDEO_CHUNK_BYTES": _int("MAX_VIDEO_CHUNK_BYTES", 64 * 1024 * 1024),
        "VIDEO_UPLOAD_EXPIRE_HOURS": _int("VIDEO_UPLOAD_EXPIRE_HOURS", 24),
        # Largest image (in pixels) we agree to decode; beyond it, a decompression bomb.
        "MAX_IMAGE_PIXELS": _int("MAX_IMAGE_PIXELS", 40_000_000),
        # A GPS fix farther than this from the registered location flags the inspection.
        "GPS_REVIEW_DISTANCE_M": _int("GPS_REVIEW_DISTANCE_M", 500),
        # Device tokens live this long before the device has to rotate.
        "DEVICE_TOKEN_TTL_HOURS": _int("DEVICE_TOKEN_TTL_HOURS", 24 * 30),
        "PORTAL_TOKEN_TTL_HOURS": _int("PORTAL_TOKEN_TTL_HOURS", 24 * 7),
        "ENROLMENT_CODE_TTL_HOURS": _int("ENROLMENT_CODE_TTL_HOURS", 72),
        "SYNC_PAGE_SIZE": _int("SYNC_PAGE_SIZE", 500),
        # An instance's own policy files (grading, publicity, catalogues…), searched after the
        # packaged defaults; see supervision/policy.
        # The job queue (RQ). Empty: long jobs run inline; see supervision/jobs.py.
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # Webhooks: retry delays (seconds, growing) and the receiver's time limit per attempt.
        "WEBHOOK_RETRY_INTERVALS": [30, 120, 600, 3600, 21600],
        "WEBHOOK_TIMEOUT_SECONDS": _int("WEBHOOK_TIMEOUT_SECONDS", 10),
        # Credit checks by other departments, per API key (Flask-Limiter notation).
        "CREDIT_CHECK_RATE_LIMIT": os.environ.get("CREDIT_CHECK_RATE_LIMIT", "60 per minute"),
        "POLICY_DIR": os.environ.get("POLICY_DIR") or str(instance_path / "policies"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "JSON_AS_ASCII": False,
        # flask-smorest: the OpenAPI document and the locally served browsable docs.
        "API_TITLE": "health-supervision API",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/assets/",
        # Swagger UI would otherwise fetch a badge from an online validator: no third-party hosts.
        "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
    }

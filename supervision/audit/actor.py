"""Who did something: a person at a desk, a terminal in the field, or the system itself."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    kind: str  # "user", "device", "cli" or "system"
    ref: str  # stable reference, e.g. "device:7" or "cli:root"
    details: dict = field(default_factory=dict, compare=False)

    @classmethod
    def cli(cls, username: str) -> "Actor":
        return cls("cli", f"cli:{username}")

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls("system", f"system:{name}")

    @classmethod
    def user(cls, username: str) -> "Actor":
        return cls("user", f"user:{username}")

    @classmethod
    def device(cls, device_id: int, inspector_id: int, badge_no: str) -> "Actor":
        return cls(
            "device",
            f"device:{device_id}",
            {"device_id": device_id, "inspector_id": inspector_id, "badge_no": badge_no},
        )

    def as_dict(self) -> dict:
        return {"kind": self.kind, "ref": self.ref, **self.details}

"""Who did something: a person at a desk, a terminal in the field, or the system itself.

An Actor is also what operations take to decide what the caller may do: the access rules live
in the services, not in the views, so a supervisor at the command line and a terminal go
through the same rule. `jurisdiction_id` is the area an actor acts for; None means every
jurisdiction (a supervisor at the CLI, the system itself).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    kind: str  # "user", "device", "establishment", "cli" or "system"
    ref: str  # stable reference, e.g. "device:7" or "cli:root"
    details: dict = field(default_factory=dict, compare=False)
    # Not part of the audit payload: what the access rules need.
    jurisdiction_id: int | None = field(default=None, compare=False)

    @classmethod
    def cli(cls, username: str) -> "Actor":
        return cls("cli", f"cli:{username}")

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls("system", f"system:{name}")

    @classmethod
    def user(cls, username: str, jurisdiction_id: int | None = None) -> "Actor":
        return cls("user", f"user:{username}", jurisdiction_id=jurisdiction_id)

    @classmethod
    def device(cls, device_id: int, inspector_id: int, badge_no: str, jurisdiction_id: int | None = None) -> "Actor":
        return cls(
            "device",
            f"device:{device_id}",
            {"device_id": device_id, "inspector_id": inspector_id, "badge_no": badge_no},
            jurisdiction_id=jurisdiction_id,
        )

    @classmethod
    def establishment(cls, account_id: int, establishment_ids: tuple[int, ...]) -> "Actor":
        """An establishment's own account (the self-service portal): it acts only on the
        establishments it holds, never for a jurisdiction."""
        return cls("establishment", f"account:{account_id}", {"account_id": account_id,
                                                              "establishment_ids": list(establishment_ids)})

    @property
    def establishment_ids(self) -> tuple[int, ...]:
        return tuple(self.details.get("establishment_ids", ()))

    @property
    def device_id(self) -> int | None:
        return self.details.get("device_id")

    @property
    def inspector_id(self) -> int | None:
        return self.details.get("inspector_id")

    @property
    def badge_no(self) -> str | None:
        return self.details.get("badge_no")

    def covers(self, jurisdiction_id: int | None) -> bool:
        """Whether this actor may see and act on records of that jurisdiction. A device or a
        desk user acts for one jurisdiction; the CLI and the system for all."""
        if self.kind in ("cli", "system"):
            return True
        return self.jurisdiction_id is not None and self.jurisdiction_id == jurisdiction_id

    def as_dict(self) -> dict:
        return {"kind": self.kind, "ref": self.ref, **self.details}

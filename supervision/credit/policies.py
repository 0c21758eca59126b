"""Resolving the credit policies (publicity windows, the dishonesty catalogue) for a unit and a
date, with each policy set and jurisdiction chain loaded once per use.

Services take a `Policies`; interfaces build one for the app (`Policies.current`), tests for
a directory of their own.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Iterable

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from supervision.policy import PolicyDocument, PolicySet, jurisdiction_chain
from supervision.registry.models import Jurisdiction


class Policies:
    def __init__(self, session: Session, roots: Iterable[str | Path | None] = ()):
        # Importing the kinds registers their validators.
        from supervision.credit import catalogue, publicity  # noqa: F401

        self.session = session
        self.roots = [r for r in roots if r]
        self._sets: dict[str, PolicySet] = {}
        self._chains: dict[int, list[str]] = {}

    @classmethod
    def current(cls, session: Session) -> "Policies":
        """The packaged defaults plus the instance's POLICY_DIR, when there is an app."""
        roots = [current_app.config.get("POLICY_DIR")] if has_app_context() else []
        return cls(session, roots)

    def set(self, kind: str) -> PolicySet:
        if kind not in self._sets:
            self._sets[kind] = PolicySet.load(kind, self.roots)
        return self._sets[kind]

    def chain(self, jurisdiction_id: int | None) -> list[str]:
        if jurisdiction_id is None:
            return []
        if jurisdiction_id not in self._chains:
            self._chains[jurisdiction_id] = jurisdiction_chain(self.session.get(Jurisdiction, jurisdiction_id))
        return self._chains[jurisdiction_id]

    def resolve(self, kind: str, jurisdiction_id: int | None, on: date) -> PolicyDocument:
        return self.set(kind).resolve(self.chain(jurisdiction_id), on)

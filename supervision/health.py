"""Liveness: can we talk to the database right now?"""
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from supervision.extensions import db


def check() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        reachable = True
    except SQLAlchemyError:
        db.session.rollback()
        reachable = False
    return {
        "status": "ok" if reachable else "degraded",
        "database": "reachable" if reachable else "unreachable",
        "dialect": db.engine.dialect.name,
    }

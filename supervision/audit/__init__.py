"""The audit chain (执法全过程记录): every state change of the project is recorded here."""
from supervision.audit.actor import Actor
from supervision.audit.service import on_append, record, savepoint, verify_chain

__all__ = ["Actor", "on_append", "record", "savepoint", "verify_chain"]

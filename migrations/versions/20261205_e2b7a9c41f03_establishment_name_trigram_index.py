"""Trigram index on establishment names for the public search (PostgreSQL only).

Revision ID: e2b7a9c41f03
Revises: f19a0c3e7b21
Create Date: 2026-12-04 23:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2b7a9c41f03'
down_revision = 'f19a0c3e7b21'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the search reads the table; no trigram index exists there
    # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index("ix_establishments_name_trgm", "establishments", ["name"], unique=False,
                    postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_establishments_name_trgm", table_name="establishments",
                  postgresql_using="gin")
    # The extension stays: other objects of the database may use it.

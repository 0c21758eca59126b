"""Index inspections by status and arrival, for the settlement sweeper.

Revision ID: c4e8f1a29d53
Revises: a7c31e9d4b20
Create Date: 2026-12-04 17:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e8f1a29d53'
down_revision = 'a7c31e9d4b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index('ix_inspections_status_received', ['status', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_inspections_status_received')

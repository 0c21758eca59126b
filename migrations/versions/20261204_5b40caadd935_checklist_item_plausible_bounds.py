"""Checklist number items: plausible physical bounds, separate from the legal limits.

A measurement outside them (1e308 mg/m³) is a typing or device error, refused on arrival,
not a finding. Null on versions published before: those keep being read as they were.

Revision ID: 5b40caadd935
Revises: 7c1e2d3a4b50
Create Date: 2026-12-04 16:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b40caadd935'
down_revision = '7c1e2d3a4b50'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plausible_min', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('plausible_max', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.drop_column('plausible_max')
        batch_op.drop_column('plausible_min')

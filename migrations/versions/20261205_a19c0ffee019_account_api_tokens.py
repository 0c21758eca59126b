"""Establishment accounts: API tokens beside portal cookies, and one account per establishment.

Revision ID: a19c0ffee019
Revises: e2b7a9c41f03
Create Date: 2026-12-05 08:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a19c0ffee019'
down_revision = 'e2b7a9c41f03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='cookie', nullable=False))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.create_check_constraint('kind', "kind IN ('cookie', 'api')")
    with op.batch_alter_table('account_establishments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_establishments_establishment_id'))
        batch_op.create_index(batch_op.f('ix_account_establishments_establishment_id'), ['establishment_id'], unique=True)


def downgrade():
    with op.batch_alter_table('account_establishments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_establishments_establishment_id'))
        batch_op.create_index(batch_op.f('ix_account_establishments_establishment_id'), ['establishment_id'], unique=False)
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('kind')

"""Establishment accounts for the self-service portal, and their server-side sessions.

Revision ID: f19a0c3e7b21
Revises: b7d2e4f61a09
Create Date: 2026-12-04 18:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f19a0c3e7b21'
down_revision = 'b7d2e4f61a09'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('establishment_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sa.String(length=18), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_establishment_accounts')),
    sa.UniqueConstraint('login', name=op.f('uq_establishment_accounts_login'))
    )
    op.create_table('account_establishments',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['establishment_accounts.id'], name=op.f('fk_account_establishments_account_id_establishment_accounts')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_account_establishments_establishment_id_establishments')),
    sa.PrimaryKeyConstraint('account_id', 'establishment_id', name=op.f('pk_account_establishments'))
    )
    with op.batch_alter_table('account_establishments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_establishments_establishment_id'), ['establishment_id'], unique=False)
    op.create_table('account_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['establishment_accounts.id'], name=op.f('fk_account_sessions_account_id_establishment_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_sessions_token_hash'))
    )
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_sessions_account_id'), ['account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('account_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_sessions_account_id'))
    op.drop_table('account_sessions')
    with op.batch_alter_table('account_establishments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_establishments_establishment_id'))
    op.drop_table('account_establishments')
    op.drop_table('establishment_accounts')

"""Credit events outbox: what other systems are told, written with the change itself.

Revision ID: e5a1b2c3d4f6
Revises: a3f9c2d1e8b7
Create Date: 2026-12-04 17:25:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e5a1b2c3d4f6'
down_revision = 'a3f9c2d1e8b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['credit_subjects.id'], name=op.f('fk_credit_events_subject_id_credit_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_events'))
    )
    with op.batch_alter_table('credit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_events_event_type'), ['event_type'], unique=False)


def downgrade():
    with op.batch_alter_table('credit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_events_event_type'))
    op.drop_table('credit_events')

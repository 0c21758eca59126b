"""Complaints from the public site (投诉举报).

Revision ID: b7d2e4f61a09
Revises: b7d2e4f6a8c1
Create Date: 2026-12-04 17:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d2e4f61a09'
down_revision = 'b7d2e4f6a8c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('contact_name', sa.String(length=64), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('photo_type', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('credit_record_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('photo_bytes', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('received', 'substantiated', 'unfounded')", name=op.f('ck_complaints_status')),
    sa.CheckConstraint("category IN ('hygiene', 'licence', 'water', 'medical', 'disinfection', 'other')",
                       name=op.f('ck_complaints_category')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_complaints_establishment_id_establishments')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_complaints_task_id_tasks')),
    sa.ForeignKeyConstraint(['credit_record_id'], ['credit_records.id'], name=op.f('fk_complaints_credit_record_id_credit_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints')),
    sa.UniqueConstraint('reference', name=op.f('uq_complaints_reference'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_establishment_id'), ['establishment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_establishment_id'))
    op.drop_table('complaints')

"""Self-reported information (自愿申报) and its evidence files.

Revision ID: b19d5e1f0a20
Revises: a19c0ffee019
Create Date: 2026-12-05 08:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b19d5e1f0a20'
down_revision = 'a19c0ffee019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('self_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=200), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('pledged_by', sa.String(length=64), nullable=False),
    sa.Column('pledge_text', sa.Text(), nullable=False),
    sa.Column('submitted_by', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('credit_record_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('honour', 'certification', 'public_welfare')", name=op.f('ck_self_reports_kind')),
    sa.CheckConstraint("status IN ('pending', 'verified', 'rejected')", name=op.f('ck_self_reports_status')),
    sa.ForeignKeyConstraint(['credit_record_id'], ['credit_records.id'], name=op.f('fk_self_reports_credit_record_id_credit_records')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_self_reports_establishment_id_establishments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_reports'))
    )
    with op.batch_alter_table('self_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_reports_establishment_id'), ['establishment_id'], unique=False)
        batch_op.create_index('ix_self_reports_status', ['status'], unique=False)
    op.create_table('self_report_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['self_reports.id'], name=op.f('fk_self_report_evidence_report_id_self_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_report_evidence'))
    )
    with op.batch_alter_table('self_report_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_report_evidence_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('self_report_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_report_evidence_report_id'))
    op.drop_table('self_report_evidence')
    with op.batch_alter_table('self_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_self_reports_status')
        batch_op.drop_index(batch_op.f('ix_self_reports_establishment_id'))
    op.drop_table('self_reports')

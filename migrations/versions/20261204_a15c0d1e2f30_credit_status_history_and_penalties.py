"""Credit record status history, and administrative penalty decisions.

Revision ID: a15c0d1e2f30
Revises: c4e8f1a29d53
Create Date: 2026-12-04 16:39:43.882278

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a15c0d1e2f30'
down_revision = 'c4e8f1a29d53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credit_record_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=False),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('actor_ref', sa.String(length=64), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint("to_status IN ('effective', 'under_objection', 'corrected', 'revoked', 'repaired')", name=op.f('ck_credit_record_status_changes_to_status')),
    sa.ForeignKeyConstraint(['record_id'], ['credit_records.id'], name=op.f('fk_credit_record_status_changes_record_id_credit_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_record_status_changes'))
    )
    with op.batch_alter_table('credit_record_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_record_status_changes_record_id'), ['record_id'], unique=False)

    op.create_table('penalties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_no', sa.String(length=64), nullable=False),
    sa.Column('issuing_unit_id', sa.Integer(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('penalty_type', sa.String(length=32), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('procedure', sa.String(length=16), nullable=False),
    sa.Column('serious', sa.Boolean(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('case_summary', sa.Text(), nullable=False),
    sa.Column('fulfilled_on', sa.Date(), nullable=True),
    sa.Column('penalty_case_id', sa.Integer(), nullable=True),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('credit_record_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("penalty_type IN ('warning', 'fine', 'confiscation', 'suspension', 'licence_revocation', 'other')", name=op.f('ck_penalties_penalty_type')),
    sa.CheckConstraint("procedure IN ('simple', 'general')", name=op.f('ck_penalties_procedure')),
    sa.CheckConstraint('amount_fen IS NULL OR amount_fen > 0', name=op.f('ck_penalties_amount')),
    sa.CheckConstraint('fulfilled_on IS NULL OR fulfilled_on >= decided_on', name=op.f('ck_penalties_fulfilled_on')),
    sa.ForeignKeyConstraint(['credit_record_id'], ['credit_records.id'], name=op.f('fk_penalties_credit_record_id_credit_records')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_penalties_establishment_id_establishments')),
    sa.ForeignKeyConstraint(['issuing_unit_id'], ['jurisdictions.id'], name=op.f('fk_penalties_issuing_unit_id_jurisdictions')),
    sa.ForeignKeyConstraint(['penalty_case_id'], ['penalty_cases.id'], name=op.f('fk_penalties_penalty_case_id_penalty_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_penalties')),
    sa.UniqueConstraint('credit_record_id', name=op.f('uq_penalties_credit_record_id')),
    sa.UniqueConstraint('issuing_unit_id', 'decision_no', name=op.f('uq_penalties_issuing_unit_id_decision_no')),
    sa.UniqueConstraint('penalty_case_id', name=op.f('uq_penalties_penalty_case_id'))
    )
    with op.batch_alter_table('penalties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_penalties_establishment_id'), ['establishment_id'], unique=False)



def downgrade():
    with op.batch_alter_table('penalties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_penalties_establishment_id'))

    op.drop_table('penalties')
    with op.batch_alter_table('credit_record_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_record_status_changes_record_id'))

    op.drop_table('credit_record_status_changes')

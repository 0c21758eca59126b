"""Commitment letters (append-only signatures) and self-inspections of establishments.

Revision ID: c19a5e7d2b40
Revises: b19d5e1f0a20
Create Date: 2026-12-05 08:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c19a5e7d2b40'
down_revision = 'b19d5e1f0a20'
branch_labels = None
depends_on = None

PG_APPEND_ONLY = """
CREATE FUNCTION commitment_letters_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'commitment_letters is append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER commitment_letters_append_only BEFORE UPDATE OR DELETE ON commitment_letters
    FOR EACH ROW EXECUTE FUNCTION commitment_letters_append_only();
"""
SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER commitment_letters_no_update BEFORE UPDATE ON commitment_letters
       BEGIN SELECT RAISE(ABORT, 'commitment_letters is append-only'); END""",
    """CREATE TRIGGER commitment_letters_no_delete BEFORE DELETE ON commitment_letters
       BEGIN SELECT RAISE(ABORT, 'commitment_letters is append-only'); END""",
]


def upgrade():
    op.create_table('commitment_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('letter_version', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('signer_name', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['establishment_accounts.id'], name=op.f('fk_commitment_letters_account_id_establishment_accounts')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_commitment_letters_establishment_id_establishments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_letters')),
    sa.UniqueConstraint('establishment_id', 'letter_version', name=op.f('uq_commitment_letters_establishment_id_letter_version'))
    )
    with op.batch_alter_table('commitment_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_letters_establishment_id'), ['establishment_id'], unique=False)
    op.create_table('self_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('checklist_version_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('corrections', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['establishment_accounts.id'], name=op.f('fk_self_inspections_account_id_establishment_accounts')),
    sa.ForeignKeyConstraint(['checklist_version_id'], ['checklist_versions.id'], name=op.f('fk_self_inspections_checklist_version_id_checklist_versions')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_self_inspections_establishment_id_establishments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_inspections'))
    )
    with op.batch_alter_table('self_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_inspections_establishment_id'), ['establishment_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS commitment_letters_append_only ON commitment_letters")
        op.execute("DROP FUNCTION IF EXISTS commitment_letters_append_only()")
    with op.batch_alter_table('self_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_inspections_establishment_id'))
    op.drop_table('self_inspections')
    with op.batch_alter_table('commitment_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_letters_establishment_id'))
    op.drop_table('commitment_letters')

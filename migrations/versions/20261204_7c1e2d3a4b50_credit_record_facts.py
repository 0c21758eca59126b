"""Credit records carry sub-kind, severity, status, title, legal basis and fuller provenance.

Revision ID: 7c1e2d3a4b50
Revises: 58efdcbc47c1
Create Date: 2026-12-04 16:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '7c1e2d3a4b50'
down_revision = '58efdcbc47c1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('severity', sa.String(length=16), nullable=False, server_default='none'))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='effective'))
        batch_op.add_column(sa.Column('title', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('legal_basis', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('practice_points', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('producing_department', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('entered_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch_op.create_index('ix_credit_records_arose_on', ['arose_on'], unique=False)
        batch_op.create_check_constraint('kind', sa.text(
            "kind IN ('licensing', 'inspection', 'penalty', 'coercive_measure', 'levy', 'requisition', "
            "'positive', 'adverse', 'dishonesty', 'bad_practice_points')"))
        batch_op.create_check_constraint('severity', sa.text("severity IN ('none', 'minor', 'general', 'serious')"))
        batch_op.create_check_constraint('status', sa.text(
            "status IN ('effective', 'under_objection', 'corrected', 'revoked', 'repaired')"))
    # The defaults were only for existing rows; the application always sets these.
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.alter_column('severity', server_default=None)
        batch_op.alter_column('status', server_default=None)
        batch_op.alter_column('title', server_default=None)


def downgrade():
    with op.batch_alter_table('credit_records', schema=None) as batch_op:
        batch_op.drop_constraint('status', type_='check')
        batch_op.drop_constraint('severity', type_='check')
        batch_op.drop_constraint('kind', type_='check')
        batch_op.drop_index('ix_credit_records_arose_on')
        for column in ('reason', 'entered_by', 'producing_department', 'practice_points', 'legal_basis', 'title',
                       'status', 'severity', 'code'):
            batch_op.drop_column(column)

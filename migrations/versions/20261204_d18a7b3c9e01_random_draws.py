"""Double-random draws, their targets, inspector conflicts of interest, inspectors assigned to tasks.

Revision ID: d18a7b3c9e01
Revises: b6d2e4f80a17
Create Date: 2026-12-04 17:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd18a7b3c9e01'
down_revision = 'b6d2e4f80a17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('draws',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_code', sa.String(length=64), nullable=False),
    sa.Column('plan_text', sa.Text(), nullable=False),
    sa.Column('plan_sha256', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('candidate_count', sa.Integer(), nullable=True),
    sa.Column('candidate_sha256', sa.String(length=64), nullable=True),
    sa.Column('candidates_blob', sa.LargeBinary(), nullable=True),
    sa.Column('result_sha256', sa.String(length=64), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('seeded', 'drawn')", name=op.f('ck_draws_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draws'))
    )
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draws_plan_code'), ['plan_code'], unique=False)

    op.create_table('draw_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('stratum', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('inspector_ids', sa.JSON(), nullable=False),
    sa.Column('no_pair_reason', sa.Text(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['draw_id'], ['draws.id'], name=op.f('fk_draw_targets_draw_id_draws'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_draw_targets_establishment_id_establishments')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_draw_targets_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_draw_targets')),
    sa.UniqueConstraint('draw_id', 'establishment_id', name=op.f('uq_draw_targets_draw_id_establishment_id'))
    )
    with op.batch_alter_table('draw_targets', schema=None) as batch_op:
        batch_op.create_index('ix_draw_targets_draw_position', ['draw_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_draw_targets_establishment_id'), ['establishment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_draw_targets_task_id'), ['task_id'], unique=False)

    op.create_table('inspector_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('declared_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_inspector_conflicts_establishment_id_establishments')),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspectors.id'], name=op.f('fk_inspector_conflicts_inspector_id_inspectors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspector_conflicts')),
    sa.UniqueConstraint('inspector_id', 'establishment_id', name=op.f('uq_inspector_conflicts_inspector_id_establishment_id'))
    )
    with op.batch_alter_table('inspector_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspector_conflicts_establishment_id'), ['establishment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspector_conflicts_inspector_id'), ['inspector_id'], unique=False)

    op.create_table('task_inspectors',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['inspector_id'], ['inspectors.id'], name=op.f('fk_task_inspectors_inspector_id_inspectors')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_inspectors_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'inspector_id', name=op.f('pk_task_inspectors'))
    )
    with op.batch_alter_table('task_inspectors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_inspectors_inspector_id'), ['inspector_id'], unique=False)


def downgrade():
    with op.batch_alter_table('task_inspectors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_inspectors_inspector_id'))
    op.drop_table('task_inspectors')
    with op.batch_alter_table('inspector_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspector_conflicts_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_inspector_conflicts_establishment_id'))
    op.drop_table('inspector_conflicts')
    with op.batch_alter_table('draw_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draw_targets_task_id'))
        batch_op.drop_index(batch_op.f('ix_draw_targets_establishment_id'))
        batch_op.drop_index('ix_draw_targets_draw_position')
    op.drop_table('draw_targets')
    with op.batch_alter_table('draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draws_plan_code'))
    op.drop_table('draws')

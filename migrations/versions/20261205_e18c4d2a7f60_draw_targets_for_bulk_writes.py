"""Draw targets shaped for a draw's bulk write: keyed by (draw, establishment), no row-by-row
foreign-key checks on the draw and the establishment, no index on the position, the task
index partial (docs/draws.md, "Where it runs").

Revision ID: e18c4d2a7f60
Revises: d17f0a57a9e1
Create Date: 2026-12-05 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e18c4d2a7f60'
down_revision = 'd17f0a57a9e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('draw_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_draw_targets_draw_position')
        batch_op.drop_index('ix_draw_targets_task_id')
        batch_op.drop_constraint('fk_draw_targets_draw_id_draws', type_='foreignkey')
        batch_op.drop_constraint('fk_draw_targets_establishment_id_establishments', type_='foreignkey')
        batch_op.drop_constraint('uq_draw_targets_draw_id_establishment_id', type_='unique')
        batch_op.drop_constraint('pk_draw_targets', type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_draw_targets', ['draw_id', 'establishment_id'])
        batch_op.create_index('ix_draw_targets_task_id', ['task_id'], unique=False,
                              postgresql_where=sa.text('task_id IS NOT NULL'),
                              sqlite_where=sa.text('task_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('draw_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_draw_targets_task_id')
        batch_op.drop_constraint('pk_draw_targets', type_='primary')
        batch_op.add_column(sa.Column('id', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE draw_targets_id_seq OWNED BY draw_targets.id")
        op.execute("UPDATE draw_targets SET id = nextval('draw_targets_id_seq')")
        op.execute("ALTER TABLE draw_targets ALTER COLUMN id SET DEFAULT nextval('draw_targets_id_seq')")
    else:
        op.execute("UPDATE draw_targets SET id = rowid")
    with op.batch_alter_table('draw_targets', schema=None) as batch_op:
        batch_op.alter_column('id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_primary_key('pk_draw_targets', ['id'])
        batch_op.create_unique_constraint('uq_draw_targets_draw_id_establishment_id', ['draw_id', 'establishment_id'])
        batch_op.create_foreign_key('fk_draw_targets_establishment_id_establishments', 'establishments',
                                    ['establishment_id'], ['id'])
        batch_op.create_foreign_key('fk_draw_targets_draw_id_draws', 'draws', ['draw_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_draw_targets_task_id', ['task_id'], unique=False)
        batch_op.create_index('ix_draw_targets_draw_position', ['draw_id', 'position'], unique=False)

"""Credit reports, departments' credit checks (keys and their append-only log), webhook
subscriptions and deliveries.

Revision ID: b6d2e4f80a17
Revises: b7d4e9f1a2c6
Create Date: 2026-12-04 17:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b6d2e4f80a17'
down_revision = 'b7d4e9f1a2c6'
branch_labels = None
depends_on = None

PG_APPEND_ONLY = """
CREATE FUNCTION credit_checks_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credit_checks is append-only';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER credit_checks_append_only BEFORE UPDATE OR DELETE ON credit_checks
    FOR EACH ROW EXECUTE FUNCTION credit_checks_append_only();
"""
SQLITE_APPEND_ONLY = [
    """CREATE TRIGGER credit_checks_no_update BEFORE UPDATE ON credit_checks
       BEGIN SELECT RAISE(ABORT, 'credit_checks is append-only'); END""",
    """CREATE TRIGGER credit_checks_no_delete BEFORE DELETE ON credit_checks
       BEGIN SELECT RAISE(ABORT, 'credit_checks is append-only'); END""",
]


def upgrade():
    op.create_table('credit_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['credit_subjects.id'], name=op.f('fk_credit_reports_subject_id_credit_subjects')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_credit_reports_establishment_id_establishments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_reports')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_reports_number')),
    sa.UniqueConstraint('year', 'sequence', name='uq_credit_reports_year_sequence')
    )
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('name', name=op.f('uq_departments_name'))
    )
    op.create_table('department_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_department_keys_department_id_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_department_keys_key_hash'))
    )
    op.create_table('credit_checks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=32), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('grade', sa.String(length=1), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_checks'))
    )
    with op.batch_alter_table('credit_checks', schema=None) as batch_op:
        batch_op.create_index('ix_credit_checks_department_at', ['department_id', 'at'], unique=False)
    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('name', name=op.f('uq_push_subscriptions_name'))
    )
    op.create_table('credit_event_dispatches',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['credit_events.id'], name=op.f('fk_credit_event_dispatches_event_id_credit_events')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_credit_event_dispatches'))
    )
    op.create_table('push_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['credit_events.id'], name=op.f('fk_push_deliveries_event_id_credit_events')),
    sa.ForeignKeyConstraint(['subscription_id'], ['push_subscriptions.id'], name=op.f('fk_push_deliveries_subscription_id_push_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_deliveries')),
    sa.UniqueConstraint('event_id', 'subscription_id', name='uq_push_deliveries_event_subscription')
    )
    with op.batch_alter_table('push_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_push_deliveries_status', ['status'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS credit_checks_append_only ON credit_checks")
        op.execute("DROP FUNCTION IF EXISTS credit_checks_append_only()")
    with op.batch_alter_table('push_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_push_deliveries_status')
    op.drop_table('push_deliveries')
    op.drop_table('credit_event_dispatches')
    op.drop_table('push_subscriptions')
    with op.batch_alter_table('credit_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_checks_department_at')
    op.drop_table('credit_checks')
    op.drop_table('department_keys')
    op.drop_table('departments')
    op.drop_table('credit_reports')

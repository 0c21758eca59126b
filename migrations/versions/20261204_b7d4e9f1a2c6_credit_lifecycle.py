"""Credit lifecycle: working-day calendar (seeded 2004-2026), objections, repairs, lists, interviews.

Revision ID: b7d4e9f1a2c6
Revises: e5a1b2c3d4f6
Create Date: 2026-12-04 17:40:00

"""
from datetime import date, timedelta

from alembic import op
import sqlalchemy as sa


revision = 'b7d4e9f1a2c6'
down_revision = 'e5a1b2c3d4f6'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('daily_patrol', 'special_inspection', 'special_campaign', 'reinspection', 'random', 'complaint')"
NEW_KINDS = ("kind IN ('daily_patrol', 'special_inspection', 'special_campaign', 'reinspection', 'random', 'complaint', "
             "'interview')")


def _seed_calendar():
    """China's official holidays and make-up working days as far as the chinesecalendar package
    knows them (2004-2026): only the days that differ from the weekday rule are stored."""
    import chinese_calendar

    years = sa.table('calendar_years', sa.column('year', sa.Integer), sa.column('source', sa.String),
                     sa.column('loaded_at', sa.DateTime))
    days = sa.table('calendar_days', sa.column('day', sa.Date), sa.column('is_workday', sa.Boolean),
                    sa.column('name', sa.String))
    rows, covered = [], []
    for year in range(2004, 2027):
        day = date(year, 1, 1)
        while day.year == year:
            workday = chinese_calendar.is_workday(day)
            if workday != (day.weekday() < 5):
                _, name = chinese_calendar.get_holiday_detail(day)
                rows.append({'day': day, 'is_workday': workday, 'name': str(name or '')[:64]})
            day += timedelta(days=1)
        covered.append({'year': year, 'source': f'chinesecalendar {chinese_calendar.__version__}'})
    op.bulk_insert(days, rows)
    op.bulk_insert(years, [{'year': c['year'], 'source': c['source'], 'loaded_at': _now()} for c in covered])


def _now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).replace(tzinfo=None)


def upgrade():
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    op.create_table('calendar_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_days'))
    )
    op.create_table('credit_objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raised_by', sa.String(length=64), nullable=False),
    sa.Column('raised_for', sa.String(length=16), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('deadline_flag', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('regrade_run_ids', sa.JSON(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'upheld', 'rejected')", name=op.f('ck_credit_objections_status')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_credit_objections_establishment_id_establishments')),
    sa.ForeignKeyConstraint(['record_id'], ['credit_records.id'], name=op.f('fk_credit_objections_record_id_credit_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_objections'))
    )
    with op.batch_alter_table('credit_objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_objections_establishment_id'), ['establishment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_objections_record_id'), ['record_id'], unique=False)
        batch_op.create_index('ix_credit_objections_status_deadline', ['status', 'deadline'], unique=False)
    op.create_table('credit_objection_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('objection_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['objection_id'], ['credit_objections.id'], name=op.f('fk_credit_objection_evidence_objection_id_credit_objections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_objection_evidence'))
    )
    with op.batch_alter_table('credit_objection_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_objection_evidence_objection_id'), ['objection_id'], unique=False)
    op.create_table('credit_repairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('applied_by', sa.String(length=64), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('notice_no', sa.String(length=32), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'approved', 'refused')", name=op.f('ck_credit_repairs_status')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_credit_repairs_establishment_id_establishments')),
    sa.ForeignKeyConstraint(['record_id'], ['credit_records.id'], name=op.f('fk_credit_repairs_record_id_credit_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_repairs')),
    sa.UniqueConstraint('notice_no', name=op.f('uq_credit_repairs_notice_no'))
    )
    with op.batch_alter_table('credit_repairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_repairs_establishment_id'), ['establishment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_repairs_record_id'), ['record_id'], unique=False)
    op.create_table('credit_list_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('list_name', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('cause_record_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('notified_on', sa.Date(), nullable=False),
    sa.Column('objection_until', sa.Date(), nullable=True),
    sa.Column('entered_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('exited_on', sa.Date(), nullable=True),
    sa.Column('exit_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("list_name IN ('redlist', 'blacklist')", name=op.f('ck_credit_list_entries_list_name')),
    sa.CheckConstraint("status IN ('notified', 'entered', 'withdrawn', 'exited')", name=op.f('ck_credit_list_entries_status')),
    sa.ForeignKeyConstraint(['cause_record_id'], ['credit_records.id'], name=op.f('fk_credit_list_entries_cause_record_id_credit_records')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_credit_list_entries_establishment_id_establishments')),
    sa.ForeignKeyConstraint(['subject_id'], ['credit_subjects.id'], name=op.f('fk_credit_list_entries_subject_id_credit_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_list_entries'))
    )
    with op.batch_alter_table('credit_list_entries', schema=None) as batch_op:
        batch_op.create_index('ix_credit_list_entries_list_status', ['list_name', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_list_entries_subject_id'), ['subject_id'], unique=False)
    op.create_table('credit_interviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_order_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('rectify_by', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("level IN ('reminder', 'warning')", name=op.f('ck_credit_interviews_level')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_credit_interviews_establishment_id_establishments')),
    sa.ForeignKeyConstraint(['rectification_order_id'], ['rectification_orders.id'], name=op.f('fk_credit_interviews_rectification_order_id_rectification_orders')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_credit_interviews_task_id_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_interviews')),
    sa.UniqueConstraint('rectification_order_id', 'level', name=op.f('uq_credit_interviews_rectification_order_id_level'))
    )
    with op.batch_alter_table('credit_interviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_interviews_establishment_id'), ['establishment_id'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.create_check_constraint('kind', sa.text(NEW_KINDS))
    _seed_calendar()


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.create_check_constraint('kind', sa.text(OLD_KINDS))
    op.drop_table('credit_interviews')
    op.drop_table('credit_list_entries')
    op.drop_table('credit_repairs')
    op.drop_table('credit_objection_evidence')
    op.drop_table('credit_objections')
    op.drop_table('calendar_days')
    op.drop_table('calendar_years')

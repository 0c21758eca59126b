"""Grading runs, their stored policies, grades and contributions; published runs immutable.

Revision ID: a3f9c2d1e8b7
Revises: a15c0d1e2f30
Create Date: 2026-12-04 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a3f9c2d1e8b7'
down_revision = 'a15c0d1e2f30'
branch_labels = None
depends_on = None

_FROZEN = "('published', 'superseded')"


def upgrade():
    op.create_table(
        'grading_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('jurisdiction_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('data_as_of', sa.DateTime(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('approved_by', sa.String(length=64), nullable=True),
        sa.Column('approved_at', sa.DateTime(), nullable=True),
        sa.Column('published_by', sa.String(length=64), nullable=True),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        sa.Column('supersedes_id', sa.Integer(), nullable=True),
        sa.Column('reopen_reason', sa.Text(), nullable=True),
        sa.Column('superseded_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'approved', 'published', 'superseded')", name='status'),
        sa.ForeignKeyConstraint(['jurisdiction_id'], ['jurisdictions.id']),
        sa.ForeignKeyConstraint(['supersedes_id'], ['grading_runs.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('grading_runs', schema=None) as batch_op:
        batch_op.create_index('ix_grading_runs_jurisdiction_id', ['jurisdiction_id'], unique=False)
        batch_op.create_index('ix_grading_runs_year_status', ['year', 'status'], unique=False)

    op.create_table(
        'grading_run_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('jurisdiction', sa.String(length=12), nullable=False),
        sa.Column('effective_from', sa.Date(), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['grading_runs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('grading_run_policies', schema=None) as batch_op:
        batch_op.create_index('ix_grading_run_policies_run_id', ['run_id'], unique=False)

    op.create_table(
        'grades',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('establishment_id', sa.Integer(), nullable=True),
        sa.Column('jurisdiction_id', sa.Integer(), nullable=True),
        sa.Column('category_code', sa.String(length=32), nullable=True),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('grade', sa.String(length=1), nullable=False),
        sa.Column('hard_rule', sa.String(length=64), nullable=True),
        sa.Column('policy_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("grade IN ('A', 'B', 'C', 'D', 'E')", name='grade'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', 'subject_id'),
    )
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.create_index('ix_grades_subject_id', ['subject_id'], unique=False)

    op.create_table(
        'grade_contributions',
        sa.Column('grade_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('rule_key', sa.String(length=100), nullable=False),
        sa.Column('policy_id', sa.Integer(), nullable=False),
        sa.Column('record_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('grade_id', 'record_id'),
    )

    _create_triggers()


def _create_triggers():
    """A published (or superseded) run, its grades and contributions cannot be changed or
    deleted; the only change a published run allows is becoming superseded."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
CREATE FUNCTION grading_frozen() RETURNS trigger AS $$
BEGIN
  IF TG_TABLE_NAME = 'grading_runs' THEN
    IF OLD.status = 'superseded' OR (OLD.status = 'published' AND (TG_OP = 'DELETE'
        OR NEW.status <> 'superseded' OR NEW.digest IS DISTINCT FROM OLD.digest)) THEN
      RAISE EXCEPTION 'grading run % is published and cannot be changed', OLD.id;
    END IF;
  ELSIF TG_TABLE_NAME = 'grades' THEN
    IF EXISTS (SELECT 1 FROM grading_runs WHERE id = OLD.run_id AND status IN {_FROZEN}) THEN
      RAISE EXCEPTION 'grades of published grading run % cannot be changed', OLD.run_id;
    END IF;
  ELSE
    IF EXISTS (SELECT 1 FROM grades g JOIN grading_runs r ON r.id = g.run_id
               WHERE g.id = OLD.grade_id AND r.status IN {_FROZEN}) THEN
      RAISE EXCEPTION 'contributions of a published grading run cannot be changed';
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql""")
        for table in ('grading_runs', 'grades', 'grade_contributions'):
            op.execute(f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION grading_frozen()")
        return
    runs_when = ("OLD.status = 'superseded' OR (OLD.status = 'published' AND (NEW.status <> 'superseded' "
                 "OR NEW.digest IS NOT OLD.digest))")
    op.execute(f"CREATE TRIGGER grading_runs_frozen_update BEFORE UPDATE ON grading_runs WHEN {runs_when} "
               "BEGIN SELECT RAISE(ABORT, 'published grading run cannot be changed'); END")
    op.execute(f"CREATE TRIGGER grading_runs_frozen_delete BEFORE DELETE ON grading_runs WHEN OLD.status IN {_FROZEN} "
               "BEGIN SELECT RAISE(ABORT, 'published grading run cannot be changed'); END")
    grade_when = f"(SELECT status FROM grading_runs WHERE id = OLD.run_id) IN {_FROZEN}"
    contribution_when = (f"(SELECT r.status FROM grades g JOIN grading_runs r ON r.id = g.run_id "
                         f"WHERE g.id = OLD.grade_id) IN {_FROZEN}")
    for table, when in (('grades', grade_when), ('grade_contributions', contribution_when)):
        for op_name in ('UPDATE', 'DELETE'):
            op.execute(f"CREATE TRIGGER {table}_frozen_{op_name.lower()} BEFORE {op_name} ON {table} WHEN {when} "
                       "BEGIN SELECT RAISE(ABORT, 'published grading run cannot be changed'); END")


def downgrade():
    op.drop_table('grade_contributions')
    op.drop_table('grades')
    op.drop_table('grading_run_policies')
    op.drop_table('grading_runs')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS grading_frozen()")

"""Each subject's current grade in a table of its own (`grades_in_force`), kept by the grading
runs' publication and supersession, filled here from the published runs (docs/grading.md,
"The current grade").

Revision ID: f3a1c6d2e870
Revises: e18c4d2a7f60
Create Date: 2026-12-05 17:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f3a1c6d2e870'
down_revision = 'e18c4d2a7f60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('grades_in_force',
    sa.Column('subject_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('grade_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=1), nullable=False),
    sa.PrimaryKeyConstraint('subject_id', name=op.f('pk_grades_in_force'))
    )
    # The rule of `supervision.credit.grading.current.ranked_latest`, as it stood at this revision.
    op.execute(
        "INSERT INTO grades_in_force (subject_id, grade_id, run_id, year, score, grade) "
        "SELECT subject_id, grade_id, run_id, year, score, grade FROM ("
        " SELECT g.subject_id, g.id AS grade_id, g.run_id, r.year, g.score, g.grade,"
        " row_number() OVER (PARTITION BY g.subject_id ORDER BY r.year DESC, r.published_at DESC, r.id DESC) AS rn"
        " FROM grades g JOIN grading_runs r ON r.id = g.run_id WHERE r.status = 'published') AS ranked "
        "WHERE rn = 1")


def downgrade():
    op.drop_table('grades_in_force')

"""Stored plate pages (gzip, kept current on write) and the epoch of bulk changes.

Revision ID: d17f0a57a9e1
Revises: c19a5e7d2b40
Create Date: 2026-12-05 08:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd17f0a57a9e1'
down_revision = 'c19a5e7d2b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plate_pages',
    sa.Column('establishment_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.Column('rendered_on', sa.Date(), nullable=True),
    sa.Column('etag', sa.String(length=64), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'], name=op.f('fk_plate_pages_establishment_id_establishments')),
    sa.PrimaryKeyConstraint('establishment_id', name=op.f('pk_plate_pages'))
    )
    epoch = op.create_table('plate_page_epoch',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('epoch', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plate_page_epoch'))
    )
    op.bulk_insert(epoch, [{"id": 1, "epoch": 0}])


def downgrade():
    op.drop_table('plate_page_epoch')
    op.drop_table('plate_pages')

"""Resumable video uploads (tus) and video entries in an inspection's manifest.

Revision ID: b7d2e4f6a8c1
Revises: d18a7b3c9e01
Create Date: 2026-12-04 17:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e4f6a8c1'
down_revision = 'd18a7b3c9e01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'video_uploads',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('media_type', sa.String(length=64), nullable=False),
        sa.Column('length', sa.BigInteger(), nullable=False),
        sa.Column('upload_offset', sa.BigInteger(), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('upload_offset >= 0 AND upload_offset <= length',
                           name=op.f('ck_video_uploads_offset_range')),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_video_uploads_device_id_devices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_video_uploads')),
    )
    with op.batch_alter_table('video_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_video_uploads_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_video_uploads_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_video_uploads_sha256'), ['sha256'], unique=False)
    with op.batch_alter_table('inspection_manifest', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_inspection_manifest_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_inspection_manifest_purpose'),
                                         "purpose IN ('photo', 'signature', 'video')")


def downgrade():
    with op.batch_alter_table('inspection_manifest', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_inspection_manifest_purpose'), type_='check')
        batch_op.create_check_constraint(op.f('ck_inspection_manifest_purpose'), "purpose IN ('photo', 'signature')")
    with op.batch_alter_table('video_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_video_uploads_sha256'))
        batch_op.drop_index(batch_op.f('ix_video_uploads_expires_at'))
        batch_op.drop_index(batch_op.f('ix_video_uploads_device_id'))
    op.drop_table('video_uploads')

"""taken_at, taken_offset, taken_from: when each photo was taken (the local time, its offset from UTC where
known, and where it was read), read from the files' headers by the next run (indexing.dating), so that the
index can answer "from summer 2019" and list photos in the order they were taken

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 23:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('photos', sa.Column('taken_at', sa.DateTime(), nullable=True))
    op.add_column('photos', sa.Column('taken_offset', sa.Integer(), nullable=True))
    op.add_column('photos', sa.Column('taken_from', sa.String(), nullable=True))
    op.create_index('ix_photos_taken_at', 'photos', ['taken_at'])
    op.create_index('ix_faces_photo_person', 'faces', ['photo_id', 'person_id'])
    op.drop_index('ix_faces_photo_id', table_name='faces')


def downgrade() -> None:
    op.create_index('ix_faces_photo_id', 'faces', ['photo_id'])
    op.drop_index('ix_faces_photo_person', table_name='faces')
    op.drop_index('ix_photos_taken_at', table_name='photos')
    with op.batch_alter_table('photos') as batch:
        batch.drop_column('taken_from')
        batch.drop_column('taken_offset')
        batch.drop_column('taken_at')

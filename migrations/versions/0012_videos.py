"""videos: a photo row may be a video (its length), and a face one appearance in it (its best frame's
time and the span it covers, seconds)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN in place (SQLite and PostgreSQL): no table is copied, every id stays.
    op.add_column('photos', sa.Column('duration', sa.Float(), nullable=True))
    for column in ('video_time', 'video_from', 'video_to'):
        op.add_column('faces', sa.Column(column, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('faces', table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        for column in ('video_to', 'video_from', 'video_time'):
            batch_op.drop_column(column)
    with op.batch_alter_table('photos') as batch_op:
        batch_op.drop_column('duration')

"""shots: a file that is one shot with another (IMG_0001.CR2 beside IMG_0001.JPG) names the file its faces
are read from

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN in place (SQLite and PostgreSQL): the photos table is not copied. No foreign key (SQLite
    # cannot add one in place); removing a photo clears the column of its companions (queries.photos).
    op.add_column('photos', sa.Column('shot_lead_id', sa.Integer(), nullable=True))
    op.create_index('ix_photos_shot_lead_id', 'photos', ['shot_lead_id'])


def downgrade() -> None:
    op.drop_index('ix_photos_shot_lead_id', table_name='photos')
    with op.batch_alter_table('photos') as batch_op:
        batch_op.drop_column('shot_lead_id')

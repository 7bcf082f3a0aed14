"""photos.content_hash: recognise a moved or renamed photo by its content

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 12:45:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('photos') as batch:
        batch.add_column(sa.Column('content_hash', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('photos') as batch:
        batch.drop_column('content_hash')

"""cluster sureness: each face's distance to its group's mean face, and whether the grouping is sure of it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN (both SQLite and PostgreSQL take it in place): the faces table is not
    # copied, so its AUTOINCREMENT and every face id stay as they are.
    op.add_column('faces', sa.Column('cluster_distance', sa.Float(), nullable=True))
    op.add_column('faces', sa.Column('cluster_sure', sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('faces', table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('cluster_sure')
        batch_op.drop_column('cluster_distance')

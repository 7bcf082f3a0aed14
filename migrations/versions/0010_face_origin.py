"""face origin: detected by the detector, or drawn by hand (add-face, another tool's face region)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN in place (SQLite and PostgreSQL): the faces table is not copied; every face so far was
    # found by the detector.
    op.add_column('faces', sa.Column('origin', sa.String(), nullable=False, server_default='detected'))


def downgrade() -> None:
    with op.batch_alter_table('faces', table_kwargs={'sqlite_autoincrement': True}) as batch_op:
        batch_op.drop_column('origin')

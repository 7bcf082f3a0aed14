"""name_events: the history of names given by hand, for `indexer history` and `indexer undo`

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 04:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'name_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('action', sa.String(), nullable=False),
        sa.Column('description', sa.String(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('undone_by', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_name_events')),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table('name_events')

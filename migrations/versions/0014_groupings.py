"""groupings: what each refresh of the clusters looked at, so that a nightly run that changed nothing
does not group every unnamed face again, and a few new faces are joined to their groups

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 03:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'groupings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('embedding_model', sa.String(), nullable=False),
        sa.Column('how', sa.String(), nullable=False),
        sa.Column('link', sa.Float(), nullable=False),
        sa.Column('faces', sa.Integer(), nullable=False),
        sa.Column('newest_face_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(), nullable=False),
        sa.Column('full_faces', sa.Integer(), nullable=False),
        sa.Column('added_since_full', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_groupings_embedding_model', 'groupings', ['embedding_model'])


def downgrade() -> None:
    op.drop_index('ix_groupings_embedding_model', table_name='groupings')
    op.drop_table('groupings')

"""classifiers: the trained recognition models, and faces found by label

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('classifiers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('embedding_model', sa.String(), nullable=False),
    sa.Column('file', sa.String(), nullable=True),
    sa.Column('sha256', sa.String(), nullable=True),
    sa.Column('people', sa.JSON(), nullable=False),
    sa.Column('thresholds', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('versions', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classifiers'))
    )
    op.create_index('ix_classifiers_embedding_model', 'classifiers', ['embedding_model'], unique=False)
    op.create_index('ix_faces_label_source', 'faces', ['label_source'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_faces_label_source', table_name='faces')
    op.drop_index('ix_classifiers_embedding_model', table_name='classifiers')
    op.drop_table('classifiers')

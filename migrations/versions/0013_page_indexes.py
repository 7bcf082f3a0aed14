"""page indexes: the clusters of unnamed faces and a person's faces read one page at a time (``indexer
serve``) from indexes alone, not from the face rows (which hold the embeddings)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

IN_CLUSTER = sa.text('cluster_id IS NOT NULL')


def upgrade() -> None:
    op.create_index('ix_faces_in_cluster', 'faces', ['cluster_id', 'person_id', 'label_source', 'cluster_sure', 'photo_id'],
                    sqlite_where=IN_CLUSTER, postgresql_where=IN_CLUSTER)
    op.create_index('ix_faces_of_person', 'faces', ['person_id', 'label_source', 'label_score', 'photo_id'])


def downgrade() -> None:
    op.drop_index('ix_faces_of_person', table_name='faces')
    op.drop_index('ix_faces_in_cluster', table_name='faces')

"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 10:43:58.113581
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('name', name=op.f('uq_people_name'))
    )
    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('indexed_at', sa.DateTime(), nullable=False),
    sa.Column('error', sa.String(), nullable=True),
    sa.Column('analysis', sa.String(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('path', name=op.f('uq_photos_path'))
    )
    op.create_table('runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('roots', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runs'))
    )
    op.create_table('faces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('box_x', sa.Integer(), nullable=False),
    sa.Column('box_y', sa.Integer(), nullable=False),
    sa.Column('box_w', sa.Integer(), nullable=False),
    sa.Column('box_h', sa.Integer(), nullable=False),
    sa.Column('detection', sa.Float(), nullable=False),
    sa.Column('landmarks', sa.JSON(), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=False),
    sa.Column('embedding_model', sa.String(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('label_source', sa.String(), nullable=True),
    sa.Column('label_score', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_faces_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_faces_photo_id_photos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faces')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.create_index('ix_faces_embedding_model', ['embedding_model'], unique=False)
        batch_op.create_index('ix_faces_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_faces_photo_id', ['photo_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('faces', schema=None) as batch_op:
        batch_op.drop_index('ix_faces_photo_id')
        batch_op.drop_index('ix_faces_person_id')
        batch_op.drop_index('ix_faces_embedding_model')

    op.drop_table('faces')
    op.drop_table('runs')
    op.drop_table('photos')
    op.drop_table('people')

"""face successions: where the user's word on a face went when its photo was read anew

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 21:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'face_successions',
        sa.Column('old_face_id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('new_face_id', sa.Integer(), nullable=True),
        sa.Column('lost_name_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_face_successions_photo_id_photos'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('old_face_id', name=op.f('pk_face_successions')),
    )
    with op.batch_alter_table('face_successions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_successions_photo_id'), ['photo_id'], unique=False)


def downgrade() -> None:
    op.drop_table('face_successions')

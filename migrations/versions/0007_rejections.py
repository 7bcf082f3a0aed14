"""rejections: pairs of a face and a person the user said do not go together

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 05:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rejections',
        sa.Column('face_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['face_id'], ['faces.id'], name=op.f('fk_rejections_face_id_faces'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_rejections_person_id_people'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('face_id', 'person_id', name=op.f('pk_rejections')),
    )


def downgrade() -> None:
    op.drop_table('rejections')

"""lost_names: names given by hand that could not be carried to a face of a re-read photo

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lost_names',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('person_name', sa.String(), nullable=False),
        sa.Column('box_x', sa.Integer(), nullable=False),
        sa.Column('box_y', sa.Integer(), nullable=False),
        sa.Column('box_w', sa.Integer(), nullable=False),
        sa.Column('box_h', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.Column('lost_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_lost_names_person_id_people'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_lost_names_photo_id_photos'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lost_names')),
    )
    op.create_index('ix_lost_names_photo_id', 'lost_names', ['photo_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lost_names_photo_id', table_name='lost_names')
    op.drop_table('lost_names')

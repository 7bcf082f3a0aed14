"""people.hidden (kept out of the lists of people, still found by `find`) and people.cover_face_id (the
face that shows them, chosen by the user; no foreign key: a cover that is gone or no longer theirs is passed
over as it is read). Columns added in place (a rebuilt people table would take the
faces' names with it through their foreign key).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('people', sa.Column('hidden', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('people', sa.Column('cover_face_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('people') as batch:
        batch.drop_column('cover_face_id')
        batch.drop_column('hidden')

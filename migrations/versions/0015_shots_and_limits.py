"""shot_checked: which files of one name a run last decided are one shot or not (a digest of them), so that
a pair of files is looked at once (their aspect and a small preview), not every night, and the shots an
earlier rule made (by name alone) are decided again by the next run; limit_hit: the limit a file's last
reading hit (the run's time budget, the seconds a file may take, the cuts a video may have sampled)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 22:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('photos', sa.Column('shot_checked', sa.String(), nullable=True))
    op.add_column('photos', sa.Column('limit_hit', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('photos') as batch:
        batch.drop_column('limit_hit')
        batch.drop_column('shot_checked')

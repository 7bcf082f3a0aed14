"""clusters: groups of unnamed faces that are probably one person, and each face's group

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 04:55:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'clusters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters')),
        sqlite_autoincrement=True,
    )
    # SQLite cannot add a reference to a table in place: batch mode copies the table. The copy must keep
    # AUTOINCREMENT and its counter, since face ids (the keys of the vector files) are never used twice.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    counter = op.get_bind().execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'faces'")).scalar() if sqlite else None
    with op.batch_alter_table('faces', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.add_column(sa.Column('cluster_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_faces_cluster_id_clusters'), 'clusters', ['cluster_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_faces_cluster_id', ['cluster_id'], unique=False)
    if counter is not None:
        bind = op.get_bind()
        if bind.execute(sa.text("SELECT count(*) FROM sqlite_sequence WHERE name = 'faces'")).scalar():
            bind.execute(sa.text("UPDATE sqlite_sequence SET seq = max(seq, :seq) WHERE name = 'faces'"), {"seq": counter})
        else:
            bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('faces', :seq)"), {"seq": counter})


def downgrade() -> None:
    with op.batch_alter_table('faces', table_kwargs={'sqlite_autoincrement': True}) as batch:
        batch.drop_index('ix_faces_cluster_id')
        batch.drop_constraint(op.f('fk_faces_cluster_id_clusters'), type_='foreignkey')
        batch.drop_column('cluster_id')
    op.drop_table('clusters')

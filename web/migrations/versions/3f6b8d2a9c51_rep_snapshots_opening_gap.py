"""rep_snapshots.opening_gap in the scope index: the month's statuses counted without the diagnoses

Revision ID: 3f6b8d2a9c51
Revises: 14d25e03ae6f
Create Date: 2026-12-02 05:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3f6b8d2a9c51'
down_revision = '14d25e03ae6f'
branch_labels = None
depends_on = None

SCOPE = ['dataset_id', 'team', 'name', 'division', 'role', 'focus_gap', 'focus_skill', 'goal_progress', 'rep_id']


def upgrade():
    with op.batch_alter_table('rep_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_gap', sa.String(length=80), nullable=True))
        batch_op.drop_index('ix_rep_snapshots_scope')
    # snapshots stored before the column: the opening's performance gap from their stored diagnosis
    snaps = sa.table('rep_snapshots', sa.column('diagnosis', sa.JSON), sa.column('opening_gap', sa.String))
    op.execute(snaps.update().values(opening_gap=snaps.c.diagnosis[('opening', 'performance_gap')].as_string()))
    with op.batch_alter_table('rep_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_rep_snapshots_scope', SCOPE[:-1] + ['opening_gap', 'rep_id'], unique=False)


def downgrade():
    with op.batch_alter_table('rep_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_rep_snapshots_scope')
        batch_op.drop_column('opening_gap')
        batch_op.create_index('ix_rep_snapshots_scope', SCOPE, unique=False)

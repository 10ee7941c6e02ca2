"""jobs (the job queue's state), rep_snapshots.goal_progress and the scope index (lists at scale)

Revision ID: b7e2c41d9a10
Revises: 5631fe539529
Create Date: 2026-11-27 00:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e2c41d9a10'
down_revision = '5631fe539529'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('progress', sa.String(length=500), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_jobs_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_status'), ['status'], unique=False)
    with op.batch_alter_table('rep_snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('goal_progress', sa.Float(), nullable=True))
    _backfill_goal_progress()
    with op.batch_alter_table('rep_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_rep_snapshots_scope', ['dataset_id', 'team', 'name', 'division', 'role', 'focus_gap',
                                                         'focus_skill', 'goal_progress', 'rep_id'], unique=False)


def _backfill_goal_progress():
    """Snapshots stored before the column: their progress from their stored goals."""
    from web.reps.charts import activity_progress
    bind = op.get_bind()
    snaps = sa.table('rep_snapshots', sa.column('id', sa.Integer), sa.column('metrics', sa.JSON),
                     sa.column('goal_progress', sa.Float))
    for row in bind.execute(sa.select(snaps.c.id, snaps.c.metrics)).all():
        value = activity_progress((row.metrics or {}).get('goals') or {})
        if value is not None:
            bind.execute(snaps.update().where(snaps.c.id == row.id).values(goal_progress=value))


def downgrade():
    with op.batch_alter_table('rep_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_rep_snapshots_scope')
        batch_op.drop_column('goal_progress')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_status'))
    op.drop_table('jobs')

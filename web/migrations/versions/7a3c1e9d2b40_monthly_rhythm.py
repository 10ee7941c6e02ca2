"""the monthly rhythm: one conversation per rep, month and kind; drafts; plan follow-up on data

Revision ID: 7a3c1e9d2b40
Revises: b7e2c41d9a10
Create Date: 2026-12-02 00:30:00

Before the unique index, conversations that were started twice for the same rep, month
and kind are put right: the one with a plan (else the latest) is kept, the others are
marked discarded (nothing is deleted). Snapshots get their goal progress from their stored
metrics.
"""
from alembic import op
import sqlalchemy as sa


revision = '7a3c1e9d2b40'
down_revision = 'b7e2c41d9a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('drafts', sa.JSON(), nullable=True))
    with op.batch_alter_table('coaching_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_on_data', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('override_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_coaching_plans_closed_by_users'), 'users', ['closed_by'], ['id'])

    bind = op.get_bind()
    bind.execute(sa.text("UPDATE coaching_sessions SET drafts = '{}'"))
    bind.execute(sa.text("UPDATE coaching_plans SET closed_on_data = :f, override_reason = ''"), {"f": False})
    _discard_duplicates(bind)
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.alter_column('drafts', existing_type=sa.JSON(), nullable=False)
        batch_op.create_index('uq_coaching_sessions_rep_month_kind', ['rep_id', 'month', 'kind'], unique=True,
                              sqlite_where=sa.text("status != 'discarded'"),
                              postgresql_where=sa.text("status != 'discarded'"))
    with op.batch_alter_table('coaching_plans', schema=None) as batch_op:
        batch_op.alter_column('closed_on_data', existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column('override_reason', existing_type=sa.Text(), nullable=False)

    op.create_table('plan_measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('measured_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_plan_measures_dataset_id_datasets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['coaching_plans.id'], name=op.f('fk_plan_measures_plan_id_coaching_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_measures')),
    sa.UniqueConstraint('plan_id', 'period', name=op.f('uq_plan_measures_plan_id'))
    )
    with op.batch_alter_table('plan_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_measures_plan_id'), ['plan_id'], unique=False)


def _discard_duplicates(bind):
    rows = bind.execute(sa.text(
        "SELECT s.id, s.rep_id, s.month, s.kind, s.updated_at, "
        "(SELECT count(*) FROM coaching_plans p WHERE p.session_id = s.id) AS plans "
        "FROM coaching_sessions s WHERE s.status != 'discarded' ORDER BY s.id")).all()
    groups = {}
    for r in rows:
        groups.setdefault((r.rep_id, r.month, r.kind), []).append(r)
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = max(members, key=lambda r: (r.plans > 0, str(r.updated_at or ""), r.id))
        for r in members:
            if r.id != keep.id:
                bind.execute(sa.text("UPDATE coaching_sessions SET status = 'discarded' WHERE id = :i"), {"i": r.id})


def downgrade():
    with op.batch_alter_table('plan_measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_measures_plan_id'))
    op.drop_table('plan_measures')
    with op.batch_alter_table('coaching_sessions', schema=None) as batch_op:
        batch_op.drop_index('uq_coaching_sessions_rep_month_kind')
        batch_op.drop_column('drafts')
    with op.batch_alter_table('coaching_plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_coaching_plans_closed_by_users'), type_='foreignkey')
        batch_op.drop_column('override_reason')
        batch_op.drop_column('closed_on_data')
        batch_op.drop_column('closed_by')

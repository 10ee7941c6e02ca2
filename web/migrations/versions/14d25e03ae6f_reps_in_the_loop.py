"""reps in the loop: a rep user's rep, the rep's pre-work, assignment evidence, plan acknowledgement

Revision ID: 14d25e03ae6f
Revises: e24bb8ecc8f1
Create Date: 2026-12-02 02:19:31.208414

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14d25e03ae6f'
down_revision = 'e24bb8ecc8f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('preworks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('reflection', sa.JSON(), nullable=False),
    sa.Column('goals_note', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('rep_id', sa.String(length=120), nullable=False),
    sa.Column('rep_name', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.Column('division', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_preworks_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preworks')),
    sa.UniqueConstraint('rep_id', 'month', name=op.f('uq_preworks_rep_id'))
    )
    with op.batch_alter_table('preworks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preworks_rep_id'), ['rep_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_preworks_team'), ['team'], unique=False)

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('evidence_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reminded_on', sa.Date(), nullable=True))

    with op.batch_alter_table('coaching_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_coaching_plans_acknowledged_by_users'), 'users', ['acknowledged_by'], ['id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rep_id', sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_rep_id'), ['rep_id'], unique=False)



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_rep_id'))
        batch_op.drop_column('rep_id')

    with op.batch_alter_table('coaching_plans', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_coaching_plans_acknowledged_by_users'), type_='foreignkey')
        batch_op.drop_column('acknowledged_by')
        batch_op.drop_column('acknowledged_at')

    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('reminded_on')
        batch_op.drop_column('evidence_at')
        batch_op.drop_column('evidence')

    with op.batch_alter_table('preworks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preworks_team'))
        batch_op.drop_index(batch_op.f('ix_preworks_rep_id'))

    op.drop_table('preworks')

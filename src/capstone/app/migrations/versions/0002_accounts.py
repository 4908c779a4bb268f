"""Schema 2: users, their sessions and failed sign-ins, the audit log; each call's owner, sales
team and, for a self-review, the call it reviews. Calls made before have no owner: nobody sees
them until an admin gives them to a rep (``capstone users adopt``).

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("roles", sa.String(50), nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sign_ins",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "failed_sign_ins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, index=True),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("user", sa.String(100), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("call_id", sa.Integer),
    )
    # a column with a foreign key, added in words both SQLite and PostgreSQL take
    op.execute(
        "ALTER TABLE calls ADD COLUMN owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL"
    )
    op.add_column(
        "calls", sa.Column("sales_team", sa.String(100), nullable=False, server_default="")
    )
    op.add_column("calls", sa.Column("review_of", sa.Integer))

"""Schema 1: the calls, their annotation jobs, and the app's own settings (``meta``).

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    text = sa.String
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", text(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("call_date", sa.Date),
        sa.Column("rep", text(100), nullable=False),
        sa.Column("rep_role", text(100), nullable=False),
        sa.Column("team", text(300), nullable=False),
        sa.Column("stage", text(60), nullable=False),
        sa.Column("outcome", text(60), nullable=False),
        sa.Column("stakeholders", sa.Integer, nullable=False),
        sa.Column("industry", text(100), nullable=False),
        sa.Column("offering", text(20), nullable=False),
        sa.Column("product", text(100), nullable=False),
        sa.Column("share", sa.Boolean, nullable=False),
        sa.Column("use", text(20), nullable=False),
        sa.Column("informed", sa.Boolean),
        sa.Column("people", sa.JSON, nullable=False),
        sa.Column("stage_times", sa.JSON, nullable=False),
        sa.Column("media", sa.JSON, nullable=False),
        sa.Column("kind", text(20), nullable=False),
        sa.Column("demo", sa.Boolean, nullable=False),
        sa.Column("headline", sa.String, nullable=False),
        sa.Column("prospects_reading", text(200), nullable=False),
        sa.Column("talk_ratio", sa.Float),
        sa.Column("results", sa.JSON, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "call_id", sa.Integer, sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("state", text(20), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("message", sa.String, nullable=False),
        sa.Column("worker_pid", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime),
        sa.Column("finished_at", sa.DateTime),
    )
    op.create_table(
        "meta",
        sa.Column("key", text(50), primary_key=True),
        sa.Column("value", text(200), nullable=False),
    )

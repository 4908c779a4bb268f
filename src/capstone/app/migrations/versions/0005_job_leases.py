"""Schema 5: a job names its worker by host and process (or Dask task) and holds a lease that
the worker renews while it runs; a job whose lease lapsed is queued again, on whichever machine
its worker was. The app's schema version moves from ``meta`` to Alembic's own table.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("jobs", sa.Column("worker", sa.String(200)))
    op.add_column("jobs", sa.Column("heartbeat_at", sa.DateTime))
    op.drop_column("jobs", "worker_pid")
    op.execute("DELETE FROM meta WHERE key = 'schema_version'")

"""Schema 4: the address a failed sign-in came from (earlier ones: unknown, ``""``), so that a
lockout is per name and address; and the name an audit entry is about (a lock, an unlock).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column(
        "failed_sign_ins",
        sa.Column("address", sa.String(64), nullable=False, server_default=""),
    )
    op.add_column("audit", sa.Column("about", sa.String(100), nullable=False, server_default=""))

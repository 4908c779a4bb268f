"""Schema 3: each call's reading options, and its results as one typed value
(:class:`capstone.app.findings.Findings`) in place of the free dict and the columns
``headline``, ``prospects_reading`` and ``talk_ratio``, which are folded into it and dropped.

Revision ID: 0003
"""

import json

import sqlalchemy as sa
from alembic import op

from capstone.app.findings import legacy_findings
from capstone.calls.request import ReadingOptions

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("calls", sa.Column("options", sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, results, headline, talk_ratio FROM calls"))
    for call_id, results, headline, talk_ratio in rows.all():
        old = json.loads(results) if isinstance(results, str) else (results or {})
        connection.execute(
            sa.text("UPDATE calls SET results = :r, options = :o WHERE id = :i"),
            {
                "r": json.dumps(legacy_findings(old, headline, talk_ratio).to_json()),
                "o": json.dumps(ReadingOptions().to_json()),
                "i": call_id,
            },
        )
    for column in ("headline", "prospects_reading", "talk_ratio"):
        op.drop_column("calls", column)

"""The words of a call's details, as the seed's form asked for them, and what counts as a call
that moved forward (for the benchmarks)."""

from __future__ import annotations

from capstone.calls.metadata import SELF_REVIEW
from capstone.reading.face_reading import Role

#: The pipeline stages a call can be at (the seed's list, in order).
STAGES: tuple[str, ...] = (
    "1. Prospecting",
    "2. Qualifying",
    "3. Exploration Call",
    "4. Demo/Pitch",
    "5. Negotiation",
    "6. Deal Signing/Account Close",
    "7. Customer Success Handoff",
)

#: How a call ended (the seed's list).
OUTCOMES: tuple[str, ...] = (
    "Moved to Next Stage",
    "Disqualified Lead",
    "No Change (Objections Not Overcome)",
    "Closed Sale",
    "Lost Sale",
)

#: Outcomes that count as the call moving the deal forward.
FORWARD: frozenset[str] = frozenset({"Moved to Next Stage", "Closed Sale"})

OFFERINGS: tuple[str, ...] = ("good", "service")

#: Who a participant can be, in the form's words -> the role the analysis reads.
ROLE_WORDS: dict[str, Role] = {
    "the rep": "rep",
    "a prospect": "prospect",
    "other staff": "staff",
    "not said": "",
}

#: Whose expressions are read (the use): the form's words -> the use.
USE_WORDS: dict[str, str] = {
    "customers: the prospects only (default)": "customers",
    "self-review: my own call, for me alone": SELF_REVIEW,
}

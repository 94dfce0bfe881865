"""Why a ballot was refused: one exception with a stable code, shared by the form and websocket paths.

Codes (stable; the websocket protocol sends them as ``{"type": "error", "code": ..., "message": ...}``):

==================== ===========================================================================
``question_closed``  the question is not open (not yet opened, past its closing time, or closed)
``not_eligible``     the person may not vote on this question (signed out, wrong ward, not on the
                     panel, suspended, unconfirmed email, or the consultation is not in its voting phase)
``invalid_ballot``   the data is not a ballot of this question's kind (missing or malformed fields,
                     nothing chosen, an option left unscored)
``unknown_option``   an option id that is not one of this question's options
``too_many_choices`` more approvals than the question allows
``duplicate_rank``   two options share a rank, or one option is ranked twice
``rank_gap``         ranks skip a number (1, 2, 4)
``score_out_of_range`` a score outside 0 to 5
``over_budget``      the chosen projects cost more than the budget
``final_once_cast``  the person has already voted and ballots on this question cannot be changed
==================== ===========================================================================
"""

from __future__ import annotations

QUESTION_CLOSED = "question_closed"
NOT_ELIGIBLE = "not_eligible"
INVALID_BALLOT = "invalid_ballot"
UNKNOWN_OPTION = "unknown_option"
TOO_MANY_CHOICES = "too_many_choices"
DUPLICATE_RANK = "duplicate_rank"
RANK_GAP = "rank_gap"
SCORE_OUT_OF_RANGE = "score_out_of_range"
OVER_BUDGET = "over_budget"
FINAL_ONCE_CAST = "final_once_cast"

CODES = frozenset(
    {
        QUESTION_CLOSED,
        NOT_ELIGIBLE,
        INVALID_BALLOT,
        UNKNOWN_OPTION,
        TOO_MANY_CHOICES,
        DUPLICATE_RANK,
        RANK_GAP,
        SCORE_OUT_OF_RANGE,
        OVER_BUDGET,
        FINAL_ONCE_CAST,
    }
)


class BallotError(Exception):
    """A ballot was refused. ``message`` is written for the person voting."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"Unknown ballot error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"type": "error", "code": self.code, "message": self.message}

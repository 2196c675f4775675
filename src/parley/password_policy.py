"""Which new passwords are accepted: long enough, not the username, and hard to guess.

Strength is zxcvbn's score (0 to 4) with the username and display name as words an
attacker would try first; below MIN_SCORE is refused, with zxcvbn's warning and
suggestions as the reason. The page scores with the same library (its JavaScript
original) while the password is typed.
"""

from __future__ import annotations

import threading
import unicodedata
from typing import Any

from zxcvbn import zxcvbn

from .errors import ValidationFailed

MIN_LENGTH = 10
MIN_SCORE = 3
# zxcvbn's own bound: its matching grows quickly with length, and what follows the
# first 72 characters adds nothing a guesser would reach anyway.
SCORED_LENGTH = 72
# zxcvbn keeps the user inputs in a module-level dictionary while it scores.
_zxcvbn_lock = threading.Lock()


def strength(password: str, user_inputs: list[str]) -> dict[str, Any]:
    """zxcvbn's score and feedback for the password's first 72 characters."""
    with _zxcvbn_lock:
        result = zxcvbn(password[:SCORED_LENGTH], user_inputs=[u for u in user_inputs if u])
    feedback = result["feedback"]
    return {
        "score": int(result["score"]),
        "warning": str(feedback.get("warning") or ""),
        "suggestions": [str(s) for s in feedback.get("suggestions") or []],
    }


def check_new_password(
    password: str, username: str, display_name: str | None = None, *, field: str = "password"
) -> None:
    """Refuse a password outside the rules with 422 weak_password, saying why."""
    if len(password) < MIN_LENGTH:
        _refuse(f"must be at least {MIN_LENGTH} characters long", field)
    # Compared as a reader sees them: ALICE in fullwidth letters is still "alice".
    name, folded = _fold(username), _fold(password)
    if name and name in folded:
        _refuse("is the username" if folded == name else "holds the username", field)
    scored = strength(password, [username, display_name or ""])
    if scored["score"] < MIN_SCORE:
        reason = f"is too easy to guess (score {scored['score']} of 4, {MIN_SCORE} needed)"
        hint = scored["warning"] or " ".join(scored["suggestions"])
        _refuse(reason, field, scored, hint)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _refuse(reason: str, field: str, scored: dict[str, Any] | None = None, hint: str = "") -> None:
    details: dict[str, Any] = {"fields": [{"field": f"body.{field}", "message": reason}]}
    if scored is not None:
        details.update(scored, min_score=MIN_SCORE)
    message = f"The password {reason}." + (f" {hint}" if hint else "")
    raise ValidationFailed(message, code="weak_password", details=details)

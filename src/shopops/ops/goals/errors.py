"""Errors of the goals domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import InvalidInput, NotFound


class InvalidGoal(InvalidInput):
    code = "invalid_goal"


class GoalNotFound(NotFound):
    code = "goal_not_found"

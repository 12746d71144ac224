"""Errors of the alerts domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, IllegalTransition, InvalidInput, NotFound


class InvalidRule(InvalidInput):
    code = "invalid_rule"


class InvalidRuleFile(InvalidInput):
    """Malformed YAML or a file that is not a list of rules."""

    code = "invalid_rule_file"


class RuleNotFound(NotFound):
    code = "rule_not_found"


class DuplicateRule(Conflict):
    code = "duplicate_rule"


class AlertNotFound(NotFound):
    code = "alert_not_found"


class IllegalAlertTransition(IllegalTransition):
    code = "illegal_transition"

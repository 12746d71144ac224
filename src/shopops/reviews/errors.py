"""Errors of the reviews domain, each with its machine code."""

from __future__ import annotations

from shopops.errors import Conflict, IllegalTransition, NotFound


class ReviewNotFound(NotFound):
    code = "review_not_found"


class OrderLineNotFound(NotFound):
    """No such line in one of the customer's orders (someone else's is missing too)."""

    code = "order_line_not_found"


class OrderNotReviewable(Conflict):
    """Only a delivered (or completed) order's lines can be reviewed."""

    code = "order_not_reviewable"


class ReviewExists(Conflict):
    """One review per order line."""

    code = "review_exists"


class FollowUpExists(Conflict):
    """A review takes one follow-up (追评)."""

    code = "follow_up_exists"


class FollowUpClosed(Conflict):
    """The 追评 window has passed, or the review was rejected."""

    code = "follow_up_closed"


class ReviewRejected(Conflict):
    """A rejected review takes no reply."""

    code = "review_rejected"


class IllegalReviewTransition(IllegalTransition):
    """The review is not in a status that allows this moderation step."""

    code = "illegal_transition"

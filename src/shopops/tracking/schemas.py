"""API schemas of tracking. Event bodies are parsed by the service (one bad event must not
fail the batch), so these describe answers and the identify call."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shopops.tracking.rules import MAX_ID


class RejectedEvent(BaseModel):
    index: int
    reasons: list[str]


class BatchAccepted(BaseModel):
    accepted: int
    rejected: list[RejectedEvent]


class IdentifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    distinct_id: str = Field(min_length=1, max_length=MAX_ID)


class IdentifyRead(BaseModel):
    distinct_id: str
    person_id: str

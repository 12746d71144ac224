"""Paths: the most common routes from landing to purchase, and where sessions end.

* A converting session is a session (of `fact_events`, started in [start, end]) with a
  `to_event` event (default `pay`). Its path is the sequence of its events from the landing
  event up to and including the first `to_event`, labelled by event name (`by="event"`) or by
  page path (`by="path"`, falling back to the event name for events without a path).
  Consecutive repeats collapse (`product_view, product_view` → one step) unless
  `collapse=False`. A path longer than `max_steps` keeps its first `max_steps − 1` steps, then
  "…", then the final step.
* Exit points: sessions (`fact_sessions`, started in [start, end]) by `exit_path`, the last
  page they viewed, with the share of all sessions and how many of them converted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import ibis

from shopops.analytics.analyses._common import BadParameter, check_period, execute_df, table
from shopops.analytics.engine import Warehouse

ELLIPSIS = "…"


@dataclass
class PathsResult:
    sessions: int
    converting_sessions: int
    paths: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    exits: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        conv = self.converting_sessions
        return {
            "sessions": self.sessions,
            "converting_sessions": conv,
            "paths": [
                {"steps": list(steps), "sessions": n, "share": n / conv if conv else None}
                for steps, n in self.paths
            ],
            "exits": self.exits,
        }


def paths(
    wh: Warehouse,
    *,
    start: dt.date,
    end: dt.date,
    by: str = "event",
    to_event: str = "pay",
    max_steps: int = 6,
    top: int = 20,
    collapse: bool = True,
) -> PathsResult:
    """Top `top` landing-to-`to_event` paths and the top `top` exit pages."""
    check_period(start, end)
    if by not in ("event", "path") or not 2 <= max_steps <= 30 or not 1 <= top <= 1000:
        raise BadParameter(
            "by must be event or path, max_steps 2..30, top 1..1000",
            details={"by": by, "max_steps": max_steps, "top": top},
        )
    e = table(wh, "fact_events")
    # Sessions are keyed by their first event: take the sessions that start in the period.
    sess = table(wh, "fact_sessions")
    sess = sess.filter(sess.date >= start, sess.date <= end)
    total = int(wh.execute(sess.count()) or 0)
    e = e.filter(e.date >= start, e.date <= end + dt.timedelta(days=1))
    hits = e.filter(e.event == to_event)
    goal = hits.group_by("session_id").aggregate(goal_ts=hits.ts_at.min())
    goal = goal.join(sess.select("session_id"), "session_id")
    j = e.join(goal, "session_id")
    j = j.filter(j.ts_at <= j.goal_ts)
    label = j.event if by == "event" else j.path.nullif("").fill_null(j.event)
    steps = j.select("session_id", "ts_at", "event_id", label=label)
    order = [steps.ts_at, steps.event_id]
    if collapse:
        prev = steps.label.lag().over(group_by=steps.session_id, order_by=order)
        steps = steps.filter(prev.isnull() | (prev != steps.label))
    w = ibis.window(group_by=steps.session_id, order_by=[steps.ts_at, steps.event_id])
    numbered = steps.select(
        "session_id",
        "label",
        rn=ibis.row_number().over(w) + 1,
        n=steps.label.count().over(ibis.window(group_by=steps.session_id)),
    )
    kept = numbered.filter((numbered.rn < max_steps) | (numbered.rn == numbered.n))
    rows = execute_df(wh, kept.select("session_id", "rn", "n", "label"))
    counter: Counter[tuple[str, ...]] = Counter()
    if len(rows):
        rows = rows.sort_values(["session_id", "rn"], kind="stable")
        for _, group in rows.groupby("session_id", sort=False):
            labels = [str(v) for v in group["label"]]
            n = int(group["n"].iloc[0])
            if n > max_steps:
                labels = [*labels[: max_steps - 1], ELLIPSIS, labels[-1]]
            counter[tuple(labels)] += 1
    result = PathsResult(sessions=total, converting_sessions=sum(counter.values()))
    result.paths = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    exits = sess.group_by(path=sess.exit_path.fill_null("")).aggregate(
        sessions=sess.count(), converted=sess.converted.cast("int64").sum()
    )
    ex = execute_df(wh, exits.order_by([ibis.desc("sessions"), "path"]).limit(top))
    result.exits = [
        {
            "path": str(p),
            "sessions": int(s),
            "share": int(s) / total if total else None,
            "converted": int(c or 0),
        }
        for p, s, c in ex[["path", "sessions", "converted"]].itertuples(index=False)
    ]
    return result

"""The per-field alert rule editor (create / edit a rule as a form): the metric chosen from the
registry, scope and filters, the condition, level, cool-down, playbook and automatic action.
Every field is validated by the same RuleSpec as the YAML import and the API, and each error
is shown next to the field it names; nothing is saved unless the whole rule is valid."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from shopops.accounts.models import Role
from shopops.analytics.metrics import DIMENSIONS, METRICS
from shopops.db import session_scope
from shopops.errors import ShopOpsError
from shopops.ops.alerts import service
from shopops.ops.alerts.schemas import RuleSpec
from shopops.web.app import router
from shopops.web.auth import ConsoleGuard, ConsoleViewer, check_csrf
from shopops.web.render import render

EDIT_ROLES = (Role.OPERATOR,)
TEXT = ("code", "name_zh", "name_en", "playbook_zh", "playbook_en")
NUMBERS = {"value": float, "baseline_weeks": int, "consecutive": int, "level": int,
           "cooldown_days": int, "min_base": float}  # fmt: skip
FIELDS = (*TEXT, "metric", "denominator", "filters", "split_by", "kind", "op", "compare",
          "action", "enabled", *NUMBERS)  # fmt: skip
ACTIONS = ("draft_promotion", "image_refresh", "purchase_suggestion")
# Where a whole-rule (registry) error belongs, by the words of its message.
_PLACES = (("action", "action"), ("split", "split_by"), ("filter", "filters"),
           ("dimension", "filters"), ("compare", "compare"), ("ratio", "value"),
           ("never", "value"), ("threshold", "value"), ("−100%", "value"),
           ("metric", "metric"))  # fmt: skip


def _blank() -> dict[str, str]:
    form = dict.fromkeys(FIELDS, "")
    form.update(kind="threshold", op=">", level="1", cooldown_days="1", consecutive="1")
    form.update(baseline_weeks="4", min_base="0", enabled="on")
    return form


def form_of(spec: RuleSpec) -> dict[str, str]:
    codes = spec.metric_codes()
    c = spec.condition
    return {
        **{k: str(getattr(spec, k)) for k in ("code", "name_zh", "name_en")},
        "playbook_zh": spec.playbook.playbook_zh,
        "playbook_en": spec.playbook.playbook_en,
        "metric": codes[0],
        "denominator": codes[1] if len(codes) > 1 else "",
        "filters": "; ".join(f"{k}={','.join(v)}" for k, v in spec.filters.items()),
        "split_by": spec.split_by or "",
        "kind": c.kind,
        "op": c.op,
        "compare": c.compare or "",
        "action": spec.action or "",
        "enabled": "on" if spec.enabled else "",
        "value": f"{c.value:g}",
        "baseline_weeks": str(c.baseline_weeks),
        "consecutive": str(c.consecutive),
        "level": str(spec.level),
        "cooldown_days": str(spec.cooldown_days),
        "min_base": f"{spec.min_base:g}",
    }


def parse_filters(text: str) -> dict[str, list[str]]:
    """`channel=paid_search,display; province=广东` → {dimension: [values]}."""
    out: dict[str, list[str]] = {}
    for part in (p.strip() for p in text.replace("；", ";").split(";")):
        if not part:
            continue
        dim, eq, values = part.partition("=")
        if not eq or not dim.strip():
            raise ValueError(f"write filters as dimension=value1,value2; not {part!r}")
        vals = [v.strip() for v in values.replace("，", ",").split(",") if v.strip()]
        out[dim.strip()] = vals
    return out


def spec_data(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The RuleSpec input of a submitted form, and the errors found before the registry."""
    errors: dict[str, str] = {}
    nums: dict[str, Any] = {}
    for name, kind in NUMBERS.items():
        try:
            nums[name] = kind(form[name].strip())
        except ValueError:
            errors[name] = "a whole number" if kind is int else "a number"
    try:
        filters = parse_filters(form["filters"])
    except ValueError as exc:
        errors["filters"], filters = str(exc), {}
    metric = form["metric"].strip()
    if form["denominator"].strip():
        metric = f"{metric}/{form['denominator'].strip()}"
    condition: dict[str, Any] = {"kind": form["kind"], "op": form["op"]}
    condition |= {k: nums[k] for k in ("value", "baseline_weeks", "consecutive") if k in nums}
    if form["compare"]:
        condition["compare"] = form["compare"]
    data: dict[str, Any] = {k: form[k].strip() for k in ("code", "name_zh", "name_en")}
    data |= {
        "metric": metric,
        "filters": filters,
        "condition": condition,
        "playbook": {"playbook_zh": form["playbook_zh"].strip(),
                     "playbook_en": form["playbook_en"].strip()},
        "split_by": form["split_by"] or None,
        "action": form["action"] or None,
        "enabled": form["enabled"] == "on",
    }  # fmt: skip
    data |= {k: nums[k] for k in ("level", "cooldown_days", "min_base") if k in nums}
    return data, errors


def place_errors(details: dict[str, Any]) -> dict[str, str]:
    """RuleSpec errors by form field: a field's own error by its location, a whole-rule
    (registry) error by the words of its message."""
    out: dict[str, str] = {}
    for e in details.get("errors", []):
        loc, msg = str(e.get("loc") or ""), str(e.get("msg") or "")
        last = loc.split(".")[-1] if loc else ""
        if last in FIELDS:
            field = last
        elif loc.startswith("playbook"):
            field = "playbook_zh"
        else:
            low = msg.lower()
            field = next((f for word, f in _PLACES if word in low), "code")
        out.setdefault(field, msg.removeprefix("Value error, "))
    return out


def _choices() -> dict[str, Any]:
    return {
        "metrics": [(m.code, m.name_en, m.name_zh, m.available) for m in METRICS.values()],
        "dimensions": list(DIMENSIONS),
        "actions": ACTIONS,
    }


def _editor(
    request: Request,
    viewer: ConsoleViewer,
    form: dict[str, str],
    errors: dict[str, str],
    code: int = 200,
    editing: bool = False,
) -> Response:
    return render(
        request, "ops_rule_edit.html", viewer, code, form=form, errors=errors, editing=editing,
        **_choices(),
    )  # fmt: skip


@router.get("/alerts/rules/edit")
def rule_edit_page(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*EDIT_ROLES))],
    code: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    form, editing = _blank(), False
    if code:
        with session_scope(request.app.state.engine, readonly=True) as s:
            try:
                rule = service.get_rule(s, code)
            except ShopOpsError as exc:
                return _editor(request, viewer, {**form, "code": code}, {"code": exc.message},
                               404)  # fmt: skip
            form, editing = form_of(RuleSpec.model_validate(rule.spec)), True
    return _editor(request, viewer, form, {}, editing=editing)


@router.post("/alerts/rules/edit")
def rule_edit_save(
    request: Request,
    viewer: Annotated[ConsoleViewer, Depends(ConsoleGuard(*EDIT_ROLES))],
    csrf: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=60)] = "",
    name_zh: Annotated[str, Form(max_length=100)] = "",
    name_en: Annotated[str, Form(max_length=100)] = "",
    metric: Annotated[str, Form(max_length=80)] = "",
    denominator: Annotated[str, Form(max_length=80)] = "",
    filters: Annotated[str, Form(max_length=500)] = "",
    split_by: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=12)] = "threshold",
    op: Annotated[str, Form(max_length=2)] = ">",
    value: Annotated[str, Form(max_length=30)] = "",
    compare: Annotated[str, Form(max_length=14)] = "",
    baseline_weeks: Annotated[str, Form(max_length=4)] = "4",
    consecutive: Annotated[str, Form(max_length=4)] = "1",
    level: Annotated[str, Form(max_length=4)] = "1",
    cooldown_days: Annotated[str, Form(max_length=4)] = "1",
    min_base: Annotated[str, Form(max_length=30)] = "0",
    playbook_zh: Annotated[str, Form(max_length=500)] = "",
    playbook_en: Annotated[str, Form(max_length=500)] = "",
    action: Annotated[str, Form(max_length=24)] = "",
    enabled: Annotated[str, Form(max_length=3)] = "",
    editing: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    check_csrf(request, csrf)
    form = {"code": code, "name_zh": name_zh, "name_en": name_en, "metric": metric,
            "denominator": denominator, "filters": filters, "split_by": split_by, "kind": kind,
            "op": op, "value": value, "compare": compare, "baseline_weeks": baseline_weeks,
            "consecutive": consecutive, "level": level, "cooldown_days": cooldown_days,
            "min_base": min_base, "playbook_zh": playbook_zh, "playbook_en": playbook_en,
            "action": action, "enabled": enabled}  # fmt: skip
    data, errors = spec_data(form)
    if errors:
        return _editor(request, viewer, form, errors, 422, bool(editing))
    try:
        spec = service.parse_rule(data)
        with session_scope(request.app.state.engine) as s:
            if not editing and spec.code in {r.code for r in service.list_rules(s)}:
                taken = {"code": "A rule with this code exists: edit it instead."}
                return _editor(request, viewer, form, taken, 409)
            service.save_rule(s, spec)
    except ShopOpsError as exc:
        placed = place_errors(exc.details or {}) or {"code": exc.message}
        return _editor(request, viewer, form, placed, 422, bool(editing))
    return RedirectResponse(f"/console/alerts#rule-{spec.code}", status_code=303)

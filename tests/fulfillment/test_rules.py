"""Pure fulfillment rules: rates and quotes by hand, the tracking state machine (including
random scan sequences), tracking numbers and the scorecard maths by hand."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopops.fulfillment.rules import (
    ANY_REGION,
    DEFAULT_CARRIERS,
    TRACKING_TRANSITIONS,
    IllegalTrackingMove,
    RateTerms,
    ShipmentFacts,
    TrackingStatus,
    TrackingStep,
    billable_kg,
    format_tracking_number,
    is_on_time,
    is_valid_tracking_number,
    normalize_province,
    parcel_weight,
    quote,
    quote_fee,
    scorecard,
    select_rate,
    tracking_format,
    tracking_step,
)

T = TrackingStatus
SF = RateTerms("*", first_kg_fee=2300, extra_kg_fee=800, transit_hours=48)


# --- quotes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grams", "kg", "fee"),
    [
        (0, 1, 2300),  # an empty parcel still pays the first kilogram
        (1, 1, 2300),
        (1000, 1, 2300),
        (1001, 2, 3100),  # one gram over starts a second kilogram
        (2500, 3, 3900),
        (10_000, 10, 2300 + 9 * 800),
    ],
)
def test_quote_fee_by_hand(grams, kg, fee):
    assert billable_kg(grams) == kg
    assert quote_fee(SF, grams) == fee


def test_quote_carries_rate_region_and_promise():
    q = quote(RateTerms("新疆", 2800, 2000, 72), 1500)
    assert (q.region, q.weight_grams, q.billable_kg, q.fee, q.promised_hours) == (
        "新疆",
        1500,
        2,
        4800,
        72,
    )


def test_negative_weight_and_fees_are_refused():
    with pytest.raises(ValueError):
        billable_kg(-1)
    with pytest.raises(ValueError):
        RateTerms("*", -1, 0, 24)
    with pytest.raises(ValueError):
        RateTerms("*", 100, -5, 24)
    with pytest.raises(ValueError):
        RateTerms("*", 100, 5, 0)
    with pytest.raises(ValueError):
        parcel_weight([(1, -200)])


@given(st.integers(0, 100_000), st.integers(0, 100_000))
def test_fee_never_drops_as_weight_grows(a, b):
    light, heavy = sorted((a, b))
    assert SF.first_kg_fee <= quote_fee(SF, light) <= quote_fee(SF, heavy)


def test_parcel_weight_sums_quantity_times_grams():
    assert parcel_weight([(2, 350), (1, 1200), (3, 0)]) == 1900
    assert parcel_weight([]) == 0


@pytest.mark.parametrize(
    ("raw", "short"),
    [
        ("新疆维吾尔自治区", "新疆"),
        ("广西壮族自治区", "广西"),
        ("宁夏回族自治区", "宁夏"),
        ("西藏自治区", "西藏"),
        ("内蒙古自治区", "内蒙古"),
        ("香港特别行政区", "香港"),
        ("广东省", "广东"),
        ("黑龙江省", "黑龙江"),
        ("上海市", "上海"),
        (" 北京 ", "北京"),
        ("上海", "上海"),
        ("", ""),
    ],
)
def test_normalize_province(raw, short):
    assert normalize_province(raw) == short


def test_select_rate_prefers_the_province_then_the_fallback():
    xj = RateTerms("新疆", 2800, 2000, 72)
    table = {ANY_REGION: SF, "新疆": xj}
    assert select_rate(table, "新疆维吾尔自治区") is xj
    assert select_rate(table, "浙江省") is SF
    assert select_rate(table, "") is SF
    assert select_rate({"新疆": xj}, "浙江") is None


def test_default_carriers_are_plausible():
    codes = {code for code, _ in DEFAULT_CARRIERS}
    assert codes == {"sf", "jd", "zto", "yto", "sto", "yunda", "ems"}
    for (code, _name), table in DEFAULT_CARRIERS.items():
        base = table[ANY_REGION]
        # Remote provinces cost more and take longer than the carrier's usual.
        for remote in ("新疆", "西藏"):
            assert table[remote].first_kg_fee > base.first_kg_fee, code
            assert table[remote].transit_hours > base.transit_hours, code
    sf = DEFAULT_CARRIERS[("sf", "顺丰速运")]
    zto = DEFAULT_CARRIERS[("zto", "中通快递")]
    sf_mainland = [r for r in sf.values() if r.region not in ("新疆", "西藏")]
    assert all(1200 <= r.first_kg_fee <= 2300 for r in sf_mainland)
    assert all(24 <= r.transit_hours <= 48 for r in sf_mainland)
    assert all(500 <= zto[p].first_kg_fee <= 800 for p in ("*", "上海", "江苏", "浙江"))
    assert all(48 <= zto[p].transit_hours <= 72 for p in ("*", "上海", "江苏", "浙江"))
    # SF is dearer and faster than ZTO to the same place.
    assert sf[ANY_REGION].first_kg_fee > zto[ANY_REGION].first_kg_fee
    assert sf[ANY_REGION].transit_hours < zto[ANY_REGION].transit_hours


# --- tracking state machine -------------------------------------------------------------------

HAPPY = [T.CREATED, T.PICKED_UP, T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.DELIVERED]


def test_happy_path_advances():
    for current, new in itertools.pairwise(HAPPY):
        assert tracking_step(current, new) is TrackingStep.ADVANCE


@pytest.mark.parametrize("current", list(T))
@pytest.mark.parametrize("new", list(T))
def test_every_pair_is_advance_repeat_or_refused(current, new):
    if current is new:
        assert tracking_step(current, new) is TrackingStep.REPEAT
    elif new in TRACKING_TRANSITIONS[current]:
        assert tracking_step(current, new) is TrackingStep.ADVANCE
    else:
        with pytest.raises(IllegalTrackingMove):
            tracking_step(current, new)


def test_exception_from_any_open_state_and_back_onto_the_road():
    for current in (T.CREATED, T.PICKED_UP, T.IN_TRANSIT, T.OUT_FOR_DELIVERY):
        assert tracking_step(current, T.EXCEPTION) is TrackingStep.ADVANCE
    assert tracking_step(T.EXCEPTION, T.IN_TRANSIT) is TrackingStep.ADVANCE
    assert tracking_step(T.EXCEPTION, T.OUT_FOR_DELIVERY) is TrackingStep.ADVANCE
    for refused in (T.CREATED, T.PICKED_UP, T.DELIVERED):
        with pytest.raises(IllegalTrackingMove):
            tracking_step(T.EXCEPTION, refused)


def test_delivered_is_terminal_and_steps_cannot_be_skipped():
    for new in (T.CREATED, T.PICKED_UP, T.IN_TRANSIT, T.OUT_FOR_DELIVERY, T.EXCEPTION):
        with pytest.raises(IllegalTrackingMove):
            tracking_step(T.DELIVERED, new)
    with pytest.raises(IllegalTrackingMove):
        tracking_step(T.CREATED, T.DELIVERED)
    with pytest.raises(IllegalTrackingMove):
        tracking_step(T.IN_TRANSIT, T.PICKED_UP)


def test_unknown_status_is_a_value_error():
    with pytest.raises(ValueError):
        tracking_step(T.CREATED, "teleported")


@given(st.lists(st.sampled_from(list(T)), max_size=40))
def test_random_scan_sequences(scans):
    """Apply scans, skipping refused ones: the walk obeys the table, and once delivered the
    parcel stays delivered, having passed out_for_delivery just before."""
    status, path = T.CREATED, [T.CREATED]
    for scan in scans:
        try:
            step = tracking_step(status, scan)
        except IllegalTrackingMove:
            assert scan is not status
            assert scan not in TRACKING_TRANSITIONS[status]
            continue
        if step is TrackingStep.REPEAT:
            assert scan is status
            continue
        assert scan in TRACKING_TRANSITIONS[status]
        assert status is not T.DELIVERED
        status = scan
        path.append(status)
    if T.DELIVERED in path:
        assert path[-1] is T.DELIVERED
        assert path.count(T.DELIVERED) == 1
        assert path[-2] is T.OUT_FOR_DELIVERY
    # The road starts with a pick-up, or with an exception the carrier resolved.
    if T.IN_TRANSIT in path:
        before = path[: path.index(T.IN_TRANSIT)]
        assert T.PICKED_UP in before or T.EXCEPTION in before


# --- tracking numbers -----------------------------------------------------------------------


def test_tracking_number_formats():
    assert format_tracking_number("sf", 42) == "SF000000000042"
    assert len(format_tracking_number("sf", 10**15 + 7)) == 14  # wraps into 12 digits
    assert format_tracking_number("jd", 1).startswith("JD")
    assert len(format_tracking_number("jd", 1)) == 15
    assert format_tracking_number("yto", 5) == "YT0000000000005"
    assert format_tracking_number("zto", 5).isdigit()
    assert format_tracking_number("SF", 1) == format_tracking_number("sf", 1)
    assert tracking_format("deppon") == ("DEPPON", 12)
    assert format_tracking_number("deppon", 3) == "DEPPON000000000003"
    for code, _name in DEFAULT_CARRIERS:
        assert is_valid_tracking_number(format_tracking_number(code, 123456789))


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("SF123456789012", True),
        ("YT-1234-5678", True),
        ("12345", False),
        ("SF 1234567890", False),
        ("顺丰123456789", False),
        ("X" * 41, False),
    ],
)
def test_tracking_number_validation(number, ok):
    assert is_valid_tracking_number(number) is ok


# --- scorecard ------------------------------------------------------------------------------

T0 = dt.datetime(2026, 6, 18, 8, tzinfo=dt.UTC)


def _facts(code, fee, promised, hours=None, exceptions=0):
    delivered = T0 + dt.timedelta(hours=hours) if hours is not None else None
    return ShipmentFacts(code, fee, promised, T0, delivered, exceptions)


def test_scorecard_by_hand():
    rows = [
        _facts("sf", 2300, 48, hours=20),
        _facts("sf", 1200, 24, hours=30, exceptions=1),  # late
        _facts("sf", 2301, 48, hours=48),  # exactly on the promise counts as on time
        _facts("sf", 1400, 24),  # still on the road
        _facts("zto", 800, 72, hours=70),
        _facts("ems", 2000, 72, exceptions=2),
    ]
    ems, sf, zto = scorecard(rows)
    assert sf.carrier_code == "sf"
    assert (sf.shipments, sf.delivered, sf.on_time) == (4, 3, 2)
    assert sf.on_time_rate == pytest.approx(2 / 3)
    assert sf.mean_delivery_hours == pytest.approx((20 + 30 + 48) / 3)
    assert sf.total_fee == 7201
    assert sf.mean_fee == 1800  # 7201 / 4 = 1800.25
    assert sf.exceptions == 1
    assert (zto.shipments, zto.delivered, zto.on_time_rate, zto.mean_fee) == (1, 1, 1.0, 800)
    assert zto.mean_delivery_hours == pytest.approx(70)
    # Nothing delivered: no rate and no mean, rather than a misleading zero.
    assert (ems.delivered, ems.on_time_rate, ems.mean_delivery_hours) == (0, None, None)
    assert ems.exceptions == 1


def test_scorecard_mean_fee_rounds_half_up_and_empty_is_empty():
    rows = [_facts("jd", 1001, 24), _facts("jd", 1002, 24)]
    assert scorecard(rows)[0].mean_fee == 1002  # 1001.5 → 1002
    assert scorecard([]) == []


def test_on_time_needs_a_delivery():
    assert not is_on_time(_facts("sf", 0, 48))
    assert is_on_time(_facts("sf", 0, 48, hours=47.9))
    assert not is_on_time(_facts("sf", 0, 48, hours=48.01))

"""Human explanations of applied discounts and refusals, in Chinese and English."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shopops.money import format_money, to_yuan
from shopops.promotions.engine.conditions import Reason
from shopops.promotions.engine.model import (
    BP,
    BuyXGetY,
    Cashback,
    DiscountClass,
    Exchange,
    FirstOrder,
    FixedPrice,
    FreeShipping,
    GiftWithPurchase,
    Instant,
    MemberPrice,
    PercentOff,
    Promotion,
    SpendSave,
    TieredQuantity,
    TimeLimited,
)


def yuan(fen: int) -> str:
    """A threshold as shop signs write it: 30000 → "300", 2990 → "29.9"."""
    text = format(to_yuan(fen), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def money_zh(fen: int) -> str:
    # Same text as format_money; integer formatting is much faster than Decimal below 1万.
    return _plain(fen) if abs(fen) < 1_000_000 else format_money(fen, "zh_CN")


def money_en(fen: int) -> str:
    return _plain(fen)


def zhe(percent_off_bp: int) -> str:
    """15% off is 8.5折 (what is paid, in tenths)."""
    paid = BP - percent_off_bp
    whole, rest = divmod(paid, 1000)
    text = str(whole) if not rest else f"{whole}.{rest:03d}".rstrip("0")
    return f"{text}折"


def pct(percent_bp: int) -> str:
    whole, rest = divmod(percent_bp, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


def _cart_word(info: dict[str, Any]) -> tuple[str, str]:
    base = info.get("base", 0)
    return f"已满{money_zh(base)}", f"eligible {money_en(base)}"


def explain(
    p: Promotion,
    *,
    amount: int,
    info: dict[str, Any],
    cashback: int = 0,
    gift_quantity: int = 0,
    shipping_fee: int = 0,
) -> tuple[str, str]:
    """One line per language: the promotion's name, its rule, and what it did here."""
    zh, en = _detail(p, amount, info, cashback, gift_quantity, shipping_fee)
    if info.get("capped"):
        zh += "（已达优惠上限）"
        en += " (limit reached)"
    elif info.get("unit_limit"):
        zh += f"（每单限{info['unit_limit']}件）"
        en += f" (limit {info['unit_limit']} per order)"
    return f"{p.name}：{zh}", f"{p.name}: {en}"


_Detail = tuple[str, str]


def _detail(
    p: Promotion, amount: int, info: dict[str, Any], cashback: int, gifts: int, fee: int
) -> _Detail:
    params = p.params
    write = _DETAILS.get(type(params))
    if write is None:  # a subclass of a parameter class: the first class it is an instance of
        write = next((w for cls, w in _DETAILS.items() if isinstance(params, cls)), _shipping)
    return write(p, params, amount, info, cashback, gifts, fee)


def _spend_save(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    threshold, save = info.get("tier", params.tiers[0])
    seen_zh, seen_en = _cart_word(info)
    if params.repeat:
        times = info.get("times", 0)
        return (
            f"每满{yuan(threshold)}减{yuan(save)}，减{times}次（{seen_zh}）",
            f"Every ¥{yuan(threshold)} save ¥{yuan(save)}, ×{times} ({seen_en})",
        )
    return (
        f"满{yuan(threshold)}减{yuan(save)}（{seen_zh}）",
        f"Spend ¥{yuan(threshold)} save ¥{yuan(save)} ({seen_en})",
    )


def _instant(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    if p.klass is DiscountClass.PRODUCT:
        return f"每件立减{money_zh(params.amount)}", f"{money_en(params.amount)} off each item"
    return f"立减{money_zh(amount)}", f"{money_en(amount)} off"


def _percent_off(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    zh, en = zhe(params.percent_bp), f"{pct(params.percent_bp)} off"
    if params.cap is not None:
        zh += f"，最高减{money_zh(params.cap)}"
        en += f", up to {money_en(params.cap)}"
    return f"{zh}，省{money_zh(amount)}", f"{en}, saves {money_en(amount)}"


def _fixed_price(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    return (
        f"一口价{money_zh(params.price)}/件，省{money_zh(amount)}",
        f"fixed price {money_en(params.price)} each, saves {money_en(amount)}",
    )


def _cashback(
    p: Promotion, params: Any, amount: int, info: dict, cashback: int, *_: int
) -> _Detail:
    return (
        f"返现{money_zh(cashback)}，确认收货后到账",
        f"cashback {money_en(cashback)}, credited after the order completes",
    )


def _exchange(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    if params.price == 0:
        return (
            f"免费兑换{params.quantity}件，省{money_zh(amount)}",
            f"{params.quantity} item(s) free in exchange, saves {money_en(amount)}",
        )
    return (
        f"{params.quantity}件按{money_zh(params.price)}兑换，省{money_zh(amount)}",
        f"{params.quantity} item(s) at {money_en(params.price)}, saves {money_en(amount)}",
    )


def _first_order(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    if params.amount:
        return f"首单立减{money_zh(amount)}", f"first order: {money_en(amount)} off"
    return (
        f"首单{zhe(params.percent_bp)}，省{money_zh(amount)}",
        f"first order: {pct(params.percent_bp)} off, saves {money_en(amount)}",
    )


def _tiered(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    min_units, percent = info.get("tier", (0, 0))
    units = info.get("units_total", 0)
    return (
        f"满{min_units}件{zhe(percent)}（已购{units}件），省{money_zh(amount)}",
        f"{min_units}+ items {pct(percent)} off ({units} items), saves {money_en(amount)}",
    )


def _gift(
    p: Promotion, params: Any, amount: int, info: dict, cashback: int, gifts: int, fee: int
) -> _Detail:
    return f"赠品×{gifts}", f"free gift ×{gifts}"


def _buy_x_get_y(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    apps = info.get("applications", 1)
    times_zh = f"×{apps}" if apps > 1 else ""
    times_en = f" ×{apps}" if apps > 1 else ""
    x, y = params.buy_quantity, params.get_quantity
    if params.percent_bp >= BP:
        return (
            f"买{x}送{y}{times_zh}，省{money_zh(amount)}",
            f"buy {x} get {y} free{times_en}, saves {money_en(amount)}",
        )
    return (
        f"买{x}件，另{y}件{zhe(params.percent_bp)}{times_zh}，省{money_zh(amount)}",
        f"buy {x} get {y} at {pct(params.percent_bp)} off{times_en}, saves {money_en(amount)}",
    )


def _member_price(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    return f"会员价，省{money_zh(amount)}", f"member price, saves {money_en(amount)}"


def _time_limited(p: Promotion, params: Any, amount: int, info: dict, *_: int) -> _Detail:
    if params.price is not None:
        return (
            f"限时价{money_zh(params.price)}，省{money_zh(amount)}",
            f"limited-time price {money_en(params.price)}, saves {money_en(amount)}",
        )
    return (
        f"限时{zhe(params.percent_bp)}，省{money_zh(amount)}",
        f"limited time {pct(params.percent_bp)} off, saves {money_en(amount)}",
    )


def _shipping(
    p: Promotion, params: Any, amount: int, info: dict, cashback: int, gifts: int, fee: int
) -> _Detail:
    # Free shipping, and any kind without a writer of its own.
    if amount >= fee:
        return f"免运费，省{money_zh(amount)}", f"free shipping, saves {money_en(amount)}"
    return f"运费减{money_zh(amount)}", f"{money_en(amount)} off shipping"


# One writer per parameter class, in the order the classes used to be tried.
_DETAILS: dict[type, Any] = {
    SpendSave: _spend_save,
    Instant: _instant,
    PercentOff: _percent_off,
    FixedPrice: _fixed_price,
    Cashback: _cashback,
    Exchange: _exchange,
    FirstOrder: _first_order,
    TieredQuantity: _tiered,
    GiftWithPurchase: _gift,
    BuyXGetY: _buy_x_get_y,
    MemberPrice: _member_price,
    TimeLimited: _time_limited,
    FreeShipping: _shipping,
}


def _when(at: object, tz: dt.tzinfo | None) -> str:
    if isinstance(at, dt.datetime):
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return str(at)


def reason_text(
    reason: Reason, data: dict[str, Any], tz: dt.tzinfo | None = None
) -> tuple[str, str]:
    """A refusal in both languages, with the numbers that let the customer act on it."""
    if reason is Reason.MIN_SPEND_NOT_MET:
        short = data.get("short", 0)
        after = data.get("after_discounts", False)
        zh = f"还差{money_zh(short)}可用" + ("（按优惠后金额计算）" if after else "")
        en = f"spend {money_en(short)} more on eligible items to use it" + (
            " (counted after other discounts)" if after else ""
        )
        return zh, en
    if reason is Reason.MIN_QUANTITY_NOT_MET:
        short = data.get("short", 0)
        return f"还差{short}件可用", f"add {short} more eligible item(s) to use it"
    if reason is Reason.NOT_STARTED:
        when = _when(data.get("at"), tz)
        return f"活动尚未开始（{when}开始）", f"not started yet (starts {when})"
    if reason is Reason.EXPIRED:
        when = _when(data.get("at"), tz)
        return f"已过期（{when}结束）", f"expired (ended {when})"
    if reason in (Reason.NOT_COMBINABLE, Reason.EXCLUSIVE_APPLIED):
        other = data.get("other", "")
        if reason is Reason.NOT_COMBINABLE:
            return f"不可与「{other}」同时使用", f'cannot be combined with "{other}"'
        return f"「{other}」不可与其他优惠同享", f'"{other}" applies alone'
    return _FIXED[reason]


_FIXED: dict[Reason, tuple[str, str]] = {
    Reason.UNKNOWN_CODE: ("优惠码无效", "this code is not valid"),
    Reason.WRONG_CHANNEL: ("不适用于当前购买渠道", "not valid on this sales channel"),
    Reason.OUTSIDE_HOURS: ("不在活动时段内", "not valid at this day or hour"),
    Reason.NEW_CUSTOMERS_ONLY: ("仅限新客首单使用", "for a new customer's first order only"),
    Reason.CUSTOMER_NOT_ELIGIBLE: (
        "您的会员等级或人群不适用",
        "not available for your membership tier or segment",
    ),
    Reason.BIRTHDAY_MONTH_ONLY: ("仅限生日当月使用", "valid in your birthday month only"),
    Reason.USAGE_LIMIT_REACHED: ("使用次数已达上限", "its usage limit is reached"),
    Reason.CUSTOMER_LIMIT_REACHED: (
        "您的使用次数已达上限",
        "you have used it the maximum number of times",
    ),
    Reason.BUDGET_EXHAUSTED: ("活动预算已用完", "its budget is used up"),
    Reason.CAMPAIGN_BUDGET_EXHAUSTED: ("活动预算已用完", "its campaign's budget is used up"),
    Reason.NO_ELIGIBLE_ITEMS: ("购物车中没有适用商品", "no eligible items in the cart"),
    Reason.NO_DISCOUNT: ("对当前购物车没有优惠", "gives no discount on this cart"),
    Reason.BEATEN_ON_LINES: (
        "相关商品已享更大的单品优惠",
        "a larger product discount already applies to these items",
    ),
    Reason.NOT_BEST: ("已为您选择更优惠的组合", "a better combination for you was applied"),
}


def rejection_text(
    p: Promotion | None, reason: Reason, data: dict[str, Any], tz: dt.tzinfo | None = None
) -> tuple[str, str]:
    zh, en = reason_text(reason, data, tz)
    if p is None:
        return zh, en[:1].upper() + en[1:]
    return f"「{p.name}」{zh}", f'"{p.name}": {en}'


def hint_text(p: Promotion, reason: Reason, short: int) -> tuple[str, str]:
    """凑单提示: how much more buys an automatic promotion."""
    if reason is Reason.MIN_QUANTITY_NOT_MET:
        return f"再买{short}件可享「{p.name}」", f'add {short} more item(s) to get "{p.name}"'
    return (
        f"再买{money_zh(short)}可享「{p.name}」",
        f'spend {money_en(short)} more to get "{p.name}"',
    )

"""A large store's warehouse, generated: deterministic (seeded), vectorised NumPy/Arrow, written
as the loader's exact Parquet star schema (`shopops.warehouse.schema`, docs/warehouse.md): the
same tables, columns and types, facts Hive-partitioned by shop date, dimensions as one file.

    uv run python benchmarks/gen_store.py --out /tmp/shopops-store \
        [--events 10000000 --orders 1000000 --customers 200000 --skus 2000] \
        [--start 2025-06-01 --days 548 --seed 618]

The point of reference is a 3C-accessories shop (seed 000): channels, devices, regions,
categories, product roles with a few hit products, a weekday and hour rhythm, a growth trend,
618 / 双11 / 双12 peaks, repeat customers, refunds and returns, coupons and promotions, ad
spend and daily stock snapshots, so every metric of the registry has a non-trivial value.
A quarter of the orders come through the storefront and carry a tracked buying session;
marketplace orders (douyin, taobao, jd) have none, as in the real shop.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shopops.warehouse import schema as contract
from shopops.warehouse.derived import refresh_derived
from shopops.warehouse.dimensions import channel_rows, date_rows
from shopops.warehouse.files import conform, dimension_path, partition_path

US = 1_000_000
DAY = 86_400 * US
OFFSET = 8 * 3600 * US  # Asia/Shanghai, no daylight saving: local = UTC + 8 h
PAID = ["paid_search", "display", "affiliate", "feed_ads", "influencer"]
NATURAL = ["organic_search", "direct", "private_domain", "referral"]
CHANNELS = PAID + NATURAL
CHANNEL_P = [0.14, 0.05, 0.04, 0.10, 0.05, 0.22, 0.25, 0.10, 0.05]
REFERRERS = [
    "baidu.com",
    "sina.com.cn",
    "smzdm.com",
    "douyin.com",
    "xiaohongshu.com",
    "baidu.com",
    "",
    "weixin.qq.com",
    "zhihu.com",
]
DEVICES, DEVICE_P = ["mobile", "desktop", "tablet"], [0.72, 0.22, 0.06]
OS = [["iOS", "Android"], ["Windows", "macOS"], ["iPadOS", "Android"]]
PROVINCES = [
    "广东",
    "浙江",
    "江苏",
    "上海",
    "北京",
    "山东",
    "四川",
    "湖北",
    "福建",
    "河南",
    "湖南",
    "陕西",
]
CITIES = [
    "深圳",
    "杭州",
    "南京",
    "上海",
    "北京",
    "济南",
    "成都",
    "武汉",
    "厦门",
    "郑州",
    "长沙",
    "西安",
]
PROVINCE_P = np.array([16, 12, 11, 9, 8, 8, 7, 6, 6, 6, 6, 5], float)
CATEGORIES = [
    ("手机壳", "手机配件", 39),
    ("钢化膜", "手机配件", 19),
    ("数据线", "充电", 29),
    ("充电头", "充电", 69),
    ("移动电源", "充电", 129),
    ("蓝牙耳机", "音频", 199),
    ("有线耳机", "音频", 49),
    ("蓝牙音箱", "音频", 159),
    ("智能手表", "穿戴", 399),
    ("表带", "穿戴", 39),
    ("键盘", "电脑外设", 229),
    ("鼠标", "电脑外设", 99),
]
BRANDS = ["极客", "星河", "青禾", "北辰", "云帆", "木棉", "晨曦", "远山", "听澜", "拾光"]
SALES = ["storefront", "douyin", "taobao", "jd"]
SALES_P = [0.25, 0.27, 0.28, 0.20]
CARRIERS = ["顺丰", "中通", "圆通", "韵达", "京东物流", "EMS"]
PAY = ["wechat_pay", "alipay", "unionpay"]
FAILURES = ["insufficient_funds", "timeout", "card_declined"]
REASONS = ["质量问题", "尺寸不符", "不喜欢", "发错货", "七天无理由"]
SEARCHES = ["手机壳", "快充头", "蓝牙耳机", "typec数据线", "充电宝", "钢化膜", "智能手表", "键盘"]
HOURS = np.array(
    [3, 2, 1, 1, 1, 1, 2, 4, 6, 8, 10, 10, 9, 8, 8, 8, 8, 8, 9, 11, 13, 14, 12, 7], float
)
WEEKDAY = np.array([0.95, 0.93, 0.95, 0.97, 1.0, 1.12, 1.10])
BROWSE = [
    "page_view",
    "product_view",
    "search",
    "add_to_cart",
    "begin_checkout",
    "favorite",
    "share",
    "remove_from_cart",
    "coupon_claim",
    "sign_in",
]
BROWSE_P = [0.20, 0.44, 0.11, 0.11, 0.03, 0.03, 0.02, 0.02, 0.02, 0.02]
BUY = ["page_view", "product_view", "add_to_cart", "begin_checkout", "place_order", "pay"]


def strings(vocab: list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(vocab, pa.string()).take(pa.array(idx))


def ids(prefix: str, values: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(values), pa.string()), "")


def ts(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(values, pa.int64(), mask=None if valid is None else ~valid)
    return pc.cast(arr, contract.TS)


def ints(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array(values, pa.int64(), mask=None if valid is None else ~valid)


class Store:
    """The generator's state: calendar, catalogue and customers, then the facts."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.rng = np.random.default_rng(args.seed)
        self.args = args
        self.start: dt.date = args.start
        self.days = args.days
        self.end = self.start + dt.timedelta(days=self.days - 1)
        self.epoch_days = (self.start - dt.date(1970, 1, 1)).days
        self.base_utc = self.epoch_days * DAY - OFFSET  # UTC µs of the first local midnight
        self.dates = [self.start + dt.timedelta(days=i) for i in range(self.days)]
        self.weight = self._day_weights()
        self.horizon = self.days * DAY  # local µs offsets beyond this lie after the last day

    # --- calendar --------------------------------------------------------------------------
    def _day_weights(self) -> np.ndarray:
        trend = np.linspace(0.65, 1.35, self.days)
        w = trend * WEEKDAY[[d.weekday() for d in self.dates]]
        for i, d in enumerate(self.dates):
            if d.month == 6 and d.day <= 18:
                w[i] *= 4.0 if d.day == 18 else 1.3
            elif d.month == 11 and d.day <= 11:
                w[i] *= 6.0 if d.day == 11 else 1.5
            elif d.month == 12 and d.day == 12:
                w[i] *= 2.5
            elif d.day == 18:
                w[i] *= 1.3  # 会员日
        w *= 1 + self.rng.normal(0, 0.04, self.days)
        return w / w.sum()

    def local_times(self, n: int) -> np.ndarray:
        """n local µs offsets from the first midnight: days by weight, hours by rhythm."""
        day = self.rng.choice(self.days, n, p=self.weight)
        hour = self.rng.choice(24, n, p=HOURS / HOURS.sum())
        return day * DAY + hour * 3600 * US + self.rng.integers(0, 3600 * US, n)

    def day_of(self, local: np.ndarray) -> np.ndarray:
        return local // DAY

    def campaigns(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for year in range(self.start.year, self.end.year + 1):
            for name, warm, peak, last, budget in (
                ("618", (5, 25), (6, 1), (6, 18), 3_000_000_00),
                ("双11", (10, 20), (11, 1), (11, 11), 5_000_000_00),
                ("双12", (12, 8), (12, 12), (12, 12), 1_000_000_00),
            ):
                a, p, z = (dt.date(year, *warm), dt.date(year, *peak), dt.date(year, *last))
                if z < self.start or a > self.end:
                    continue
                cid = len(out) + 1
                at = [self._utc_of(x) for x in (a, p, z + dt.timedelta(days=1))]
                out.append(
                    {
                        "campaign_id": cid,
                        "name": f"{year} {name}大促",
                        "kind": name,
                        "starts_at": at[0],
                        "ends_at": at[2] + dt.timedelta(days=2),
                        "budget": budget,
                        "warmup_starts_at": at[0],
                        "peak_starts_at": at[1],
                        "wrapup_starts_at": at[2],
                    }
                )
        return out

    def _utc_of(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - dt.timedelta(hours=8)

    def campaign_of(self, local: np.ndarray, camps: list[dict[str, object]]) -> np.ndarray:
        """The campaign (id, 0 for none) whose warm-up..wrap-up spans each local instant."""
        out = np.zeros(len(local), np.int64)
        for c in camps:
            lo = self._offset(c["starts_at"])  # type: ignore[arg-type]
            hi = self._offset(c["wrapup_starts_at"])  # type: ignore[arg-type]
            out[(local >= lo) & (local < hi)] = c["campaign_id"]
        return out

    def _offset(self, when: dt.datetime) -> int:
        return int(when.timestamp() * US) - self.base_utc

    # --- catalogue and customers -----------------------------------------------------------
    def products(self) -> None:
        n = self.args.skus
        rng = self.rng
        self.n_sku = n
        product = np.arange(n) // 4
        n_prod = int(product.max()) + 1
        cat = rng.integers(0, len(CATEGORIES), n_prod)
        brand = rng.integers(0, len(BRANDS), n_prod)
        pop = rng.permutation(1.0 / np.arange(1, n_prod + 1) ** 1.1)
        rank = np.argsort(np.argsort(-pop))
        role = np.where(rank < 8, 0, np.where(rank < 40, 1, 2))
        base = np.array([c[2] for c in CATEGORIES], float)[cat]
        price_y = np.maximum(9, np.round(base * rng.lognormal(0, 0.35, n_prod)))
        price_y = np.where(role == 1, np.maximum(9, np.round(price_y * 0.6)), price_y)
        price = (price_y * 100 - 100 + 99).astype(np.int64)[product]
        self.price = price + rng.integers(0, 3, n) * 1000
        self.cost = (self.price * rng.uniform(0.35, 0.6, n)).astype(np.int64)
        tier = np.where(self.price < 5000, 0, np.where(self.price < 20000, 1, 2))
        self.sku_p = pop[product] * rng.uniform(0.5, 1.5, n)
        self.sku_p /= self.sku_p.sum()
        self.listed = rng.random(n) > 0.03
        self.product_of = product + 1
        self.category_of = cat[product] + 1
        self.brand_of = brand[product] + 1
        names = [f"{BRANDS[brand[p]]}{CATEGORIES[cat[p]][0]} P{p + 1:04d}" for p in range(n_prod)]
        self.dim_product = pa.table(
            {
                "sku_id": ints(np.arange(1, n + 1)),
                "sku_code": ids("SKU", np.arange(1, n + 1)),
                "product_id": ints(self.product_of),
                "title": pc.binary_join_element_wise(
                    strings(names, product), ids("-", np.arange(n) % 4 + 1), ""
                ),
                "category_id": ints(self.category_of),
                "category": strings([c[0] for c in CATEGORIES], cat[product]),
                "top_category": strings([c[1] for c in CATEGORIES], cat[product]),
                "brand_id": ints(self.brand_of),
                "brand": strings(BRANDS, brand[product]),
                "role": strings(["hit", "traffic_driver", "long_tail"], role[product]),
                "tier": strings(["basic", "trend", "collector"], tier),
                "list_price": ints(self.price),
                "cost": ints(self.cost),
                "status": strings(["inactive", "listed"], self.listed.astype(np.int64)),
            }
        )

    def customers(self) -> None:
        n = self.args.customers
        rng = self.rng
        self.n_cust = n
        self.cust_prov = rng.choice(len(PROVINCES), n, p=PROVINCE_P / PROVINCE_P.sum())
        self.cust_acq = rng.choice(len(CHANNELS), n, p=CHANNEL_P)
        # Heavy-tailed propensity to buy: most buy once or twice, a few buy every month.
        w = rng.pareto(1.6, n) + 0.2
        w[rng.random(n) < 0.2] = 0.0
        self.cust_w = w / w.sum()

    # --- orders and what follows from them -------------------------------------------------
    def orders(self) -> None:
        rng, n = self.rng, self.args.orders
        self.camps = self.campaigns()
        placed = np.sort(self.local_times(n))
        cust = rng.choice(self.n_cust, n, p=self.cust_w)
        sales = rng.choice(len(SALES), n, p=SALES_P)
        paid = rng.random(n) > 0.07
        paid_at = placed + (rng.exponential(90, n) * US).astype(np.int64) + 5 * US
        paid &= paid_at < self.horizon
        camp = self.campaign_of(placed, self.camps)
        # Lines: 1..5 per order, SKUs by popularity.
        per = np.minimum(rng.geometric(0.55, n), 5)
        line_order = np.repeat(np.arange(n), per)
        m = len(line_order)
        sku = rng.choice(self.n_sku, m, p=self.sku_p)
        qty = 1 + (rng.random(m) < 0.2) + (rng.random(m) < 0.05)
        unit = self.price[sku]
        sub = unit * qty
        promo_rate = np.where(camp[line_order] > 0, rng.choice([0.1, 0.15, 0.2], m), 0.0)
        promo = (sub * promo_rate).astype(np.int64)
        first_line = np.r_[0, np.cumsum(per)[:-1]]
        coupon = np.where(rng.random(n) < 0.22, rng.choice([300, 500, 1000, 2000], n), 0)
        coupon = np.minimum(coupon, sub[first_line] // 2)
        disc = promo.copy()
        disc[first_line] += coupon
        items = np.bincount(line_order, sub, n).astype(np.int64)
        discount = np.bincount(line_order, disc, n).astype(np.int64)
        units = np.bincount(line_order, qty, n).astype(np.int64)
        ship_fee = np.where(items - discount >= 9900, 0, 600)
        total = items - discount + ship_fee
        self.o = dict(
            placed=placed,
            cust=cust,
            sales=sales,
            paid=paid,
            paid_at=paid_at,
            camp=camp,
            total=total,
            items=items,
            discount=discount,
            units=units,
            ship_fee=ship_fee,
            coupon=coupon,
            promo=np.bincount(line_order, promo, n),
        )
        self.li = dict(
            order=line_order,
            sku=sku,
            qty=qty,
            unit=unit,
            sub=sub,
            disc=disc,
            total=sub - disc,
            cost=self.cost[sku],
        )
        # Fulfilment: shipped within two days, delivered one to four days later.
        shipped = paid_at + rng.integers(4 * 3600 * US, 48 * 3600 * US, n)
        is_shipped = paid & (shipped < self.horizon)
        delivered = shipped + rng.integers(DAY, 4 * DAY, n)
        is_delivered = is_shipped & (delivered < self.horizon)
        self.o.update(
            shipped=shipped, is_shipped=is_shipped, delivered=delivered, is_delivered=is_delivered
        )
        # After-sales: 5% of delivered lines come back and are refunded; 1% are exchanged.
        lo = line_order
        back = is_delivered[lo] & (rng.random(m) < 0.06)
        received = self.o["delivered"][lo] + rng.integers(2 * DAY, 6 * DAY, m)
        back &= received < self.horizon
        exchange = back & (rng.random(m) < 1 / 6)
        refunded_at = received + rng.integers(2 * 3600 * US, DAY, m)
        refund = back & ~exchange & (refunded_at < self.horizon)
        self.li.update(
            back=back, exchange=exchange, received=received, refund=refund, refunded_at=refunded_at
        )
        self.o["refunded"] = np.bincount(lo[refund], self.li["total"][refund], n).astype(np.int64)
        # A customer registered before their first order (or at some time, when never bought).
        reg = self.local_times(self.n_cust) - rng.integers(0, 60 * DAY, self.n_cust)
        first = np.full(self.n_cust, np.iinfo(np.int64).max)
        np.minimum.at(first, cust, placed)
        self.reg = np.minimum(reg, first - rng.integers(60 * US, 30 * DAY, self.n_cust))

    def utc(self, local: np.ndarray) -> np.ndarray:
        return self.base_utc + local


class Writer:
    """Writes tables in the loader's layout, with the loader's schemas and compression."""

    def __init__(self, root: Path, store: Store) -> None:
        self.root, self.store = root, store

    def fact(self, table: str, day: np.ndarray, columns: dict[str, pa.Array]) -> int:
        schema = contract.SCHEMAS.get(table) or contract.BEHAVIOUR_FACTS[table]
        data = conform(pa.table(columns), schema)
        order = np.argsort(day, kind="stable")
        data, day = data.take(pa.array(order)), day[order]
        bounds = np.searchsorted(day, np.arange(self.store.days + 1))
        for i in range(self.store.days):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            if hi > lo:
                path = partition_path(self.root, table, self.store.dates[i])
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(data.slice(lo, hi - lo), path, compression="zstd")
        return data.num_rows

    def dim(self, table: str, data: pa.Table) -> int:
        schema = contract.SCHEMAS.get(table) or contract.BEHAVIOUR_DIMENSIONS[table]
        path = dimension_path(self.root, table)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(conform(data, schema), path, compression="zstd")
        return data.num_rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--customers", type=int, default=200_000)
    p.add_argument("--skus", type=int, default=2000)
    p.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 6, 1))
    p.add_argument("--days", type=int, default=548)
    p.add_argument("--seed", type=int, default=618)
    args = p.parse_args(argv)
    if min(args.events, args.orders, args.customers, args.skus, args.days) < 1:
        p.error("sizes must be positive")
    return args


def generate(args: argparse.Namespace) -> dict[str, int]:
    """Writes the warehouse under `args.out` (replacing it); returns rows per table."""
    root: Path = args.out
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    from gen_store_facts import write_all  # the fact builders, next to this file

    store = Store(args)
    store.products()
    store.customers()
    store.orders()
    w = Writer(root, store)
    counts = write_all(store, w)
    counts["dim_channel"] = w.dim("dim_channel", contract.to_table("dim_channel", channel_rows()))
    counts["dim_date"] = w.dim(
        "dim_date", contract.to_table("dim_date", date_rows(store.dates, store.end))
    )
    counts["dim_campaign"] = w.dim("dim_campaign", contract.to_table("dim_campaign", store.camps))
    counts["dim_product"] = w.dim("dim_product", store.dim_product)
    meta = {
        "generator": "benchmarks/gen_store.py",
        "start": store.start.isoformat(),
        "end": store.end.isoformat(),
        "seed": args.seed,
        "rows": counts,
    }
    (root / "_generated.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1))
    # As the loader does after every load: the first-date summaries reads use while current.
    refresh_derived(root)
    return counts


def main() -> None:
    args = parse_args()
    t0 = time.perf_counter()
    counts = generate(args)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.1f} s")
    for name, rows in sorted(counts.items()):
        print(f"  {name:18} {rows:>12,}")


if __name__ == "__main__":
    main()

"""The seed's three-level warning system (seed 000 §2.5, §7.1, §7.2) as default rules.

Complaint rate and sentiment need the help desk (no data source yet): they ship, and the
evaluation reports them as waiting_for_data instead of passing or failing silently.
"""

from __future__ import annotations

from typing import Any

DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "code": "traffic_drop",
        "name_zh": "流量下滑超过15%",
        "name_en": "Traffic down more than 15%",
        "metric": "uv",
        # Against the same weekday's 4-week mean: weekday-aware and less noisy than one day.
        "condition": {
            "kind": "change",
            "op": "<",
            "value": -0.15,
            "compare": "baseline",
            "baseline_weeks": 4,
        },
        "level": 1,
        "cooldown_days": 1,
        "playbook": {
            "playbook_zh": "启动内容补种计划：补发种草内容、加推短视频与图文",
            "playbook_en": "Start the content re-seeding plan: more seeding posts, "
            "short videos and articles",
        },
    },
    {
        "code": "channel_traffic_drop",
        "name_zh": "渠道流量骤降",
        "name_en": "A channel's traffic collapsed",
        "metric": "uv",
        # Per channel the days are noisier: a deeper drop, and only channels big enough to judge
        # (60 visitors: Poisson noise ≈ 13%, so −40% is 3σ).
        "split_by": "channel",
        "min_base": 60,
        "condition": {
            "kind": "change",
            "op": "<",
            "value": -0.40,
            "compare": "baseline",
            "baseline_weeks": 4,
        },
        "level": 1,
        "cooldown_days": 1,
        "playbook": {
            "playbook_zh": "对该渠道启动内容补种并检查投放与链接（落地页、出价、审核状态）",
            "playbook_en": "Re-seed content on that channel and check its campaigns and "
            "links (landing page, bids, review status)",
        },
    },
    {
        "code": "main_platform_traffic_drop",
        "name_zh": "主平台流量下降超过20%",
        "name_en": "Main-platform traffic down more than 20%",
        "metric": "uv",
        "condition": {
            "kind": "change",
            "op": "<",
            "value": -0.20,
            "compare": "baseline",
            "baseline_weeks": 4,
            "consecutive": 2,
        },
        "level": 2,
        "cooldown_days": 3,
        "playbook": {
            "playbook_zh": "启动多平台引流备份：切换抖音、快手等平台储备流量",
            "playbook_en": "Switch to the multi-platform backup: move traffic to "
            "Douyin, Kuaishou and other platforms",
        },
    },
    {
        "code": "conversion_low",
        "name_zh": "转化率跌破2.5%",
        "name_en": "Conversion below 2.5%",
        "metric": "conversion_rate",
        "condition": {"kind": "threshold", "op": "<", "value": 0.025, "consecutive": 2},
        "level": 2,
        "cooldown_days": 3,
        "action": "image_refresh",
        "playbook": {
            "playbook_zh": "调整主图方案：为主推商品重做主图并做A/B测试",
            "playbook_en": "Redo the main images of the lead products and A/B test them",
        },
    },
    {
        "code": "stock_not_turning",
        "name_zh": "库存周转过慢",
        "name_en": "Stock not turning",
        "metric": "turnover_days",
        "condition": {"kind": "threshold", "op": ">", "value": 180, "consecutive": 5},
        "level": 1,
        "cooldown_days": 7,
        "action": "draft_promotion",
        "playbook": {
            "playbook_zh": "对滞销SKU启动促销活动（满减/限时折扣）",
            "playbook_en": "Start a promotion (spend-and-save / flash discount) on the slow SKUs",
        },
    },
    {
        "code": "hit_stockout",
        "name_zh": "爆款断货",
        "name_en": "A hit SKU is out of stock",
        "metric": "stockout_rate",
        # Any listed hit SKU with nothing available at the day's end: the alert names the
        # SKU(s) (attribution by SKU) and suggests a purchase.
        "filters": {"role": ["hit"]},
        "condition": {"kind": "threshold", "op": ">", "value": 0},
        "level": 2,
        "cooldown_days": 3,
        "action": "purchase_suggestion",
        "playbook": {
            "playbook_zh": "立即补货该SKU（加急采购/调拨），暂停其付费推广，页面引导至替代款",
            "playbook_en": "Restock the SKU now (rush order or transfer), pause its paid "
            "promotion and point its page to an alternative",
        },
    },
    {
        "code": "complaint_rate_high",
        "name_zh": "投诉率连续3天超过1.5%",
        "name_en": "Complaint rate above 1.5% three days running",
        "metric": "complaint_rate",
        "condition": {"kind": "threshold", "op": ">", "value": 0.015, "consecutive": 3},
        "level": 3,
        "cooldown_days": 3,
        "playbook": {
            "playbook_zh": "启动“1+1”客服增援方案（增加1名主管+1名法务顾问）",
            "playbook_en": "Start the 1+1 service reinforcement (one supervisor and one "
            "legal adviser)",
        },
    },
    {
        "code": "sentiment_down",
        "name_zh": "客户情绪指数下降5%",
        "name_en": "Sentiment index down 5%",
        "metric": "csat",
        "condition": {
            "kind": "change",
            "op": "<",
            "value": -0.05,
            "compare": "previous",
            "consecutive": 2,
        },
        "level": 2,
        "cooldown_days": 3,
        "playbook": {
            "playbook_zh": "立即启动“情感营销”关怀活动",
            "playbook_en": "Start a customer-care (emotional marketing) campaign",
        },
    },
]

# 关键词出价 (paid-search CPC, ad spend per paid-search visit, in 分): ¥15 / ¥25 / ¥35.
for _level, _yuan, _zh, _en in (
    (1, 15, "启动成本分析", "Start a cost review"),
    (2, 25, "启动流量替代方案", "Start the substitute-traffic plan"),
    (3, 35, "考虑战略性撤退", "Consider a strategic retreat from the keyword"),
):
    DEFAULT_RULES.append(
        {
            "code": f"cpc_above_{_yuan}",
            "name_zh": f"付费搜索CPC超过¥{_yuan}",
            "name_en": f"Paid-search CPC above ¥{_yuan}",
            "metric": "ad_spend/sessions",
            "filters": {"channel": ["paid_search"]},
            "condition": {"kind": "threshold", "op": ">", "value": _yuan * 100},
            "level": _level,
            "cooldown_days": 1,
            "playbook": {"playbook_zh": _zh, "playbook_en": _en},
        }
    )

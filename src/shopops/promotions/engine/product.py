"""The product phase: each line takes its best permitted product discount.

Each product promotion has an amount per line, computed on list prices. On each line the
customer gets the better of (a) the sum of the promotions that combine with other product
discounts and (b) any single one that does not — never more than the line. Ties go to the
higher-priority promotion. Campaign budgets are applied after that choice.
"""

from __future__ import annotations

from shopops.money import allocate
from shopops.promotions.engine.candidate import PRODUCT_PHASE, Candidate, Ctx, Outcome, Result


class LineTable:
    """Every product promotion's amount per line, arranged per line in priority order, to
    total the product phase of any subset (a bitmask over `cands`) quickly.

    Gives the same per-line choice as `resolve_lines`, without campaign caps.
    """

    __slots__ = ("amounts", "per_line")

    def __init__(self, cands: list[Candidate], amounts: list[int]) -> None:
        self.amounts = amounts
        self.per_line: list[list[tuple[int, int, bool, int]]] = [[] for _ in amounts]
        for b, c in enumerate(cands):
            for i, a in c.line_amounts.items():
                self.per_line[i].append((1 << b, a, c.stacks, c.rank))

    def kept(self, mask: int) -> dict[int, dict[int, int]]:
        """What each product promotion in `mask` keeps per line (by rank), as `resolve_lines`."""
        kept: dict[int, dict[int, int]] = {}
        for i, entries in enumerate(self.per_line):
            cap = self.amounts[i]
            stack: list[tuple[int, int]] = []
            single = -1
            single_rank = -1
            for bit, a, stacks, rank in entries:
                if not mask & bit:
                    continue
                if stacks:
                    stack.append((rank, a))
                else:
                    val = a if a < cap else cap
                    if val > single:
                        single, single_rank = val, rank
            winners = [(single_rank, single)] if single > 0 else []
            if stack:
                total = sum(a for _, a in stack)
                value = total if total < cap else cap
                if value > single or (value == single and stack[0][0] < single_rank):
                    winners = stack
            left = cap
            for rank, a in winners:
                take = a if a < left else left
                if take > 0:
                    kept.setdefault(rank, {})[i] = take
                    left -= take
        return kept

    def totals(self, mask: int) -> tuple[int, list[int]]:
        """(total, discount per line) of the product promotions in `mask`."""
        total = 0
        line_prod = [0] * len(self.amounts)
        for i, entries in enumerate(self.per_line):
            if not entries:
                continue
            cap = self.amounts[i]
            stack_sum = 0
            stack_rank = -1
            single = -1
            single_rank = -1
            for bit, a, stacks, rank in entries:
                if not mask & bit:
                    continue
                if stacks:
                    stack_sum += a
                    if stack_rank < 0:
                        stack_rank = rank
                else:
                    val = a if a < cap else cap
                    if val > single:
                        single, single_rank = val, rank
            if stack_rank >= 0:
                stack = stack_sum if stack_sum < cap else cap
                if stack > single or (stack == single and stack_rank < single_rank):
                    single = stack
            if single > 0:
                line_prod[i] = single
                total += single
        return total, line_prod


def resolve_lines(
    cands: list[Candidate], amounts: list[int]
) -> tuple[int, dict[int, dict[int, int]]]:
    """Per line, the best permitted product discount (or stack); returns the total and what
    each promotion keeps per line. `cands` are in priority order."""
    table = LineTable(cands, amounts)
    everything = (1 << len(cands)) - 1
    kept: dict[int, dict[int, int]] = {c.rank: {} for c in cands}
    kept.update(table.kept(everything))
    return table.totals(everything)[0], kept


def product_phase(
    ctx: Ctx, cands: list[Candidate]
) -> tuple[int, list[int], dict[int, dict[int, int]], dict[int, int]]:
    """(uncapped total for search bounds, discount per line, kept per promotion, campaign
    money left) for this set of product-class promotions; cached by the set."""
    key = tuple(c.rank for c in cands)
    hit = ctx.product_cache.get(key)
    if hit is not None:
        return hit
    amounts = ctx.idx.amounts
    bound, kept = resolve_lines(cands, amounts)
    camp_left = dict(ctx.camp_left)
    line_prod = [0] * len(amounts)
    for c in cands:
        got = kept[c.rank]
        total = sum(got.values())
        cid = c.campaign_id
        if cid is not None and cid in camp_left:
            left = camp_left[cid]
            if total > left:
                keys = list(got)
                parts = allocate(left, [got[i] for i in keys])
                got = {i: a for i, a in zip(keys, parts, strict=True) if a > 0}
                kept[c.rank] = got
                total = left
            camp_left[cid] = left - total
        for i, a in got.items():
            line_prod[i] += a
    result = (bound, line_prod, kept, camp_left)
    ctx.product_cache[key] = result
    return result


def split_products(out: Outcome, table: LineTable, mask: int) -> None:
    """Fill in what each product promotion kept, for an outcome computed from line totals."""
    kept = table.kept(mask)
    for c in out.chosen:
        if c.phase == PRODUCT_PHASE and c.rank not in out.results:
            res = Result()
            res.line_amounts = kept.get(c.rank, {})
            res.amount = sum(res.line_amounts.values())
            res.info = c.info
            out.results[c.rank] = res

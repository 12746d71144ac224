"""The product phase: each line takes its best permitted product discount.

Each product promotion has an amount per line, computed on list prices. On each line the
customer gets the better of (a) the sum of the promotions that combine with other product
discounts and (b) any single one that does not — never more than the line. Ties go to the
higher-priority promotion. Campaign budgets are applied after that choice.
"""

from __future__ import annotations

from shopops.money import allocate
from shopops.promotions.engine.candidate import PRODUCT_PHASE, Candidate, Ctx, Outcome, Result
from shopops.promotions.engine.conditions import bit_indexes


class LineTable:
    """Every product promotion's amount per line, arranged per line in priority order, to
    total the product phase of any subset (a bitmask over `cands`) quickly.

    Gives the same per-line choice as `resolve_lines`, without campaign caps. A line's choice
    depends only on which of its own promotions are in the subset, so a subset is worked out
    from the full set's lines, redoing only the lines of the promotions it leaves out (or from
    nothing, doing only the lines of the promotions it keeps, whichever are fewer).
    """

    __slots__ = ("_full", "amounts", "everything", "lines_of", "per_line")

    def __init__(self, cands: list[Candidate], amounts: list[int]) -> None:
        self.amounts = amounts
        self.per_line: list[list[tuple[int, int, bool, int]]] = [[] for _ in amounts]
        self.lines_of: list[int] = []  # per promotion: the mask of the lines it has amounts on
        per_line = self.per_line
        for b, c in enumerate(cands):
            bit, stacks, rank = 1 << b, c.stacks, c.rank
            lines = 0
            for i, a in c.line_amounts.items():
                per_line[i].append((bit, a, stacks, rank))
                lines |= 1 << i
            self.lines_of.append(lines)
        self.everything = (1 << len(cands)) - 1
        self._full: tuple[int, list[int]] | None = None

    def _lines(self, mask: int) -> tuple[int, ...]:
        """The lines on which some promotion in `mask` has an amount, ascending."""
        lines = 0
        lines_of = self.lines_of
        for b in bit_indexes(mask):
            lines |= lines_of[b]
        return bit_indexes(lines)

    def kept(self, mask: int) -> dict[int, dict[int, int]]:
        """What each product promotion in `mask` keeps per line (by rank), as `resolve_lines`."""
        kept: dict[int, dict[int, int]] = {}
        per_line, amounts = self.per_line, self.amounts
        for i in self._lines(mask):
            cap = amounts[i]
            stack: list[tuple[int, int]] = []
            single = -1
            single_rank = -1
            for bit, a, stacks, rank in per_line[i]:
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

    def _fill(self, mask: int, lines: tuple[int, ...], line_prod: list[int]) -> int:
        """Set `line_prod[i]` for each of `lines` to its discount under `mask`; the change."""
        change = 0
        per_line, amounts = self.per_line, self.amounts
        for i in lines:
            cap = amounts[i]
            stack_sum = 0
            stack_rank = -1
            single = -1
            single_rank = -1
            for bit, a, stacks, rank in per_line[i]:
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
            value = single if single > 0 else 0
            change += value - line_prod[i]
            line_prod[i] = value
        return change

    def totals(self, mask: int) -> tuple[int, list[int]]:
        """(total, discount per line) of the product promotions in `mask`."""
        full = self._full
        if full is None:
            line_prod = [0] * len(self.amounts)
            total = self._fill(self.everything, self._lines(self.everything), line_prod)
            full = self._full = (total, line_prod)
        everything = self.everything
        mask &= everything
        if mask == everything:
            return full[0], list(full[1])
        left_out = everything & ~mask
        if left_out.bit_count() <= mask.bit_count():
            line_prod = list(full[1])
            total = full[0] + self._fill(mask, self._lines(left_out), line_prod)
        else:
            line_prod = [0] * len(self.amounts)
            total = self._fill(mask, self._lines(mask), line_prod)
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
    results = out.results
    for c in out.chosen:
        if c.phase == PRODUCT_PHASE and c.rank not in results:
            got = kept.get(c.rank)
            if got is None:
                results[c.rank] = Result({}, 0, c.info)
            else:
                results[c.rank] = Result(got, sum(got.values()), c.info)

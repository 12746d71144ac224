"""Choosing the permitted combination that is best for the customer.

A combination is a set of promotions such that
- an exclusive promotion is alone;
- any two promotions of which at least one is not product class consent to each other's class
  (`b.klass in a.combines_with` and `a.klass in b.combines_with`);
- product-class promotions never exclude each other as a whole: they compete line by line
  (see `product`), and every product promotion that consents to the chosen order, shipping,
  cashback and gift promotions takes part. A customer cannot decline a product discount;
  a product discount gives way only to an order or shipping promotion that refuses to
  combine with it.
So a combination is fixed by its non-product part N: N plus every product promotion allowed
by all of N (or one exclusive promotion alone). "Best" is the largest benefit: deductions,
shipping savings, cashback and the value of gifts.

The answer is defined as plain enumeration would find it: the first combination of largest
benefit when the non-product and exclusive promotions are taken in priority order (higher
priority, then lower id), each tried "with" before "without". The search is that enumeration
as a depth-first branch and bound, which returns the same answer because it only skips
subtrees that hold nothing better, and nothing equal that would come first:

- Bounds. (1) No promotion gives more inside a combination than alone on list prices (every
  base it reads is at most its list-price base, every reward is a non-decreasing function of
  its base, capped), so open items add at most their stand-alone values; within one class,
  an item that refuses its own class excludes every other item of that class, so a class adds
  at most max(its best such item, the sum of its self-combining items). (2) The product phase
  before campaign caps is a per-line maximum over permitted stacks, so it only shrinks when an
  item narrows the allowed product set; taking items that narrow it costs at least the
  smallest such loss. Subtrees where no combination taking a narrowing item can win drop
  those items at once.
- Floor. A greedy combination (by stand-alone value, taking an item only if it is worth more
  than the product discounts it turns away) is evaluated first. Subtrees that cannot reach it
  are pruned, and so are those that can only tie it if it comes before them in the order.
Past `max_nodes` the search stops and returns the best combination found, marked inexact.
Soundness is checked by brute-force enumeration in the property tests.
"""

from __future__ import annotations

from functools import lru_cache

from shopops.promotions.engine.candidate import PRODUCT_PHASE, Candidate, Ctx, Outcome
from shopops.promotions.engine.combine import run
from shopops.promotions.engine.product import LineTable, split_products


@lru_cache(maxsize=4096)
def _consents(a: tuple, b: tuple) -> bool:
    """`consent` on signatures (class, combines_with, exclusive): what it reads."""
    if a[2] or b[2]:
        return False
    return b[0] in a[1] and a[0] in b[1]


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class _Search:
    __slots__ = (
        "allowed",
        "best",
        "by_allowed",
        "compat",
        "ctx",
        "evaluated",
        "exclusive_mask",
        "fast",
        "floor",
        "floor_mask",
        "groups",
        "items",
        "max_nodes",
        "nodes",
        "open_memo",
        "prod",
        "prod_bound",
        "standalone",
        "stopped",
        "table",
    )

    def __init__(self, ctx: Ctx, cands: list[Candidate], max_nodes: int) -> None:
        self.ctx = ctx
        prod: list[Candidate] = []
        items: list[Candidate] = []
        for c in cands:
            if c.phase == PRODUCT_PHASE and not c.exclusive:
                prod.append(c)
            else:
                items.append(c)
        self.prod, self.items = prod, items
        self.standalone = standalone = [c.standalone for c in items]
        # Consent depends only on (class, combines_with, exclusive): work per signature.
        sig_items: dict[tuple, int] = {}
        sig_prod: dict[tuple, int] = {}
        for j, x in enumerate(items):
            key = x.promo.signature
            sig_items[key] = sig_items.get(key, 0) | 1 << j
        for b, p in enumerate(prod):
            key = p.promo.signature
            sig_prod[key] = sig_prod.get(key, 0) | 1 << b
        allowed_of = {
            key: sum([m for k2, m in sig_prod.items() if _consents(key, k2)]) for key in sig_items
        }
        compat_of = {
            key: sum([m for k2, m in sig_items.items() if _consents(key, k2)]) for key in sig_items
        }
        # allowed[j]: the product promotions item j lets take part; compat[j]: the items that
        # may share a combination with item j.
        self.allowed = allowed = [allowed_of[x.promo.signature] for x in items]
        self.compat = [compat_of[x.promo.signature] & ~(1 << j) for j, x in enumerate(items)]
        # The items grouped by the product promotions they allow (few distinct masks).
        by_allowed: dict[int, int] = {}
        self.by_allowed = by_allowed
        # Bound groups. Within one class, an item that does not combine with its own class
        # excludes every other item of that class: a class gives at most the larger of its best
        # such item and the sum of its self-combining items. Exclusive items stand alone.
        exclusive = 0
        excl_ranked: list[tuple[int, int]] = []
        by_class: dict[object, tuple[list[tuple[int, int]], list[tuple[int, int]]]] = {}
        for j, x in enumerate(items):
            bit = 1 << j
            if x.exclusive:
                exclusive |= bit
                excl_ranked.append((standalone[j], bit))
                continue
            mask = allowed[j]
            by_allowed[mask] = by_allowed.get(mask, 0) | bit
            group = by_class.get(x.klass)
            if group is None:
                group = by_class[x.klass] = ([], [])
            group[0 if x.klass in x.promo.combines_with else 1].append((standalone[j], bit))
        self.groups: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]] = [
            (sorted(sc, reverse=True), sorted(nsc, reverse=True)) for sc, nsc in by_class.values()
        ]
        self.groups.append(([], sorted(excl_ranked, reverse=True)))
        self.exclusive_mask = exclusive
        self.table = LineTable(self.prod, ctx.idx.amounts)
        # Campaign budgets shared by product promotions need the detailed product phase.
        camp_left = ctx.camp_left
        self.fast = not camp_left or not any(p.campaign_id in camp_left for p in prod)
        self.prod_bound: dict[int, tuple[int, list[int]]] = {}
        self.open_memo: dict[int, tuple[int, int]] = {}
        self.evaluated: dict[tuple[frozenset[int], int], Outcome] = {}  # leaves already run
        self.best: Outcome | None = None  # the first best leaf in search order
        self.floor: Outcome | None = None  # a good combination found greedily beforehand
        self.floor_mask = 0  # its items
        self.nodes = 0
        self.max_nodes = max_nodes
        self.stopped = False

    def _open_bound(self, open_: int) -> tuple[int, int]:
        """(bound over the open non-exclusive items, best open exclusive item)."""
        hit = self.open_memo.get(open_)
        if hit is None:
            hit = self.open_memo[open_] = self._open_bound_of(open_)
        return hit

    def _open_bound_of(self, open_: int) -> tuple[int, int]:
        total = 0
        best_exclusive = 0
        last = len(self.groups) - 1
        for g, (sc, ranked) in enumerate(self.groups):
            single = 0
            for value, bit in ranked:
                if open_ & bit:
                    single = value
                    break
            if g == last:
                best_exclusive = single
                break
            summed = sum([value for value, bit in sc if open_ & bit])
            total += single if single > summed else summed
        return total, best_exclusive

    def _bound(self, prod_mask: int, s_sum: int, open_: int) -> tuple[int, int, int]:
        """Upper bounds on the benefit of the combinations below this node:
        (over all of them, over those that take an item costing product discounts, the mask of
        the open items that cost none).

        Taking a set T of open items costs at least the largest product loss among them (the
        product phase only shrinks with the allowed set): if T holds an item with a loss, T
        adds at most the group bound of all open items minus the smallest positive loss;
        otherwise at most the group bound of the items without loss.
        """
        prod_now = self._bound_prod(prod_mask)
        zero = 0
        min_loss = -1
        for allowed, members in self.by_allowed.items():
            if not open_ & members:
                continue
            loss = prod_now - self._bound_prod(prod_mask & allowed)
            if loss <= 0:
                zero |= members
            elif min_loss < 0 or loss < min_loss:
                min_loss = loss
        everything, best_exclusive = self._open_bound(open_)
        base = prod_now + s_sum
        if min_loss < 0:  # no open item costs product discounts
            return max(base + everything, best_exclusive), -1, zero
        with_loss = base + everything - min_loss
        without = base + self._open_bound(open_ & zero)[0]
        return max(with_loss, without, best_exclusive), with_loss, zero

    def _prod_of(self, mask: int) -> list[Candidate]:
        return [self.prod[b] for b in _bits(mask)]

    def _product(self, mask: int) -> tuple[int, list[int]]:
        """The product phase of a set of product promotions, before campaign caps."""
        hit = self.prod_bound.get(mask)
        if hit is None:
            hit = self.prod_bound[mask] = self.table.totals(mask)
        return hit

    def _bound_prod(self, mask: int) -> int:
        return self._product(mask)[0]

    def _evaluate(self, items: list[Candidate], prod_mask: int) -> Outcome:
        key = (frozenset(c.rank for c in items), prod_mask)
        hit = self.evaluated.get(key)
        if hit is None:
            hit = self.evaluated[key] = self._run(items, prod_mask)
        return hit

    def _run(self, items: list[Candidate], prod_mask: int) -> Outcome:
        chosen = [*items, *self._prod_of(prod_mask)]
        chosen.sort(key=lambda c: c.rank)
        # An exclusive product promotion is not in the line table: it takes the detailed path.
        fast = self.fast and all(c.phase != PRODUCT_PHASE for c in items)
        return run(self.ctx, chosen, self._product(prod_mask) if fast else None)

    def _leaf(self, items: list[Candidate], prod_mask: int) -> None:
        out = self._evaluate(items, prod_mask)
        if self.best is None or out.benefit > self.best.benefit:
            self.best = out

    def _dfs(
        self, chosen: list[Candidate], taken: int, prod_mask: int, s_sum: int, open_: int
    ) -> None:
        """`taken` holds the items in `chosen`; `open_` the undecided items still compatible
        with all of them. Every other item is decided: out."""
        if self.stopped:
            return
        self.nodes += 1
        if self.nodes > self.max_nodes:
            self.stopped = True
            return
        bound, with_loss, zero = self._bound(prod_mask, s_sum, open_)
        if self._beaten(bound, taken, open_):
            return
        if with_loss >= 0 and self._beaten(with_loss, taken, open_):
            # No combination taking an item that costs product discounts can win here
            # (exclusive items, bounded on their own, stay).
            open_ &= zero | self.exclusive_mask
        low = open_ & -open_
        if not open_:
            self._leaf(chosen, prod_mask)
            return
        first = low.bit_length() - 1
        x = self.items[first]
        if x.exclusive:
            if not chosen:
                self._leaf([x], 0)
        else:
            chosen.append(x)
            self._dfs(
                chosen,
                taken | low,
                prod_mask & self.allowed[first],
                s_sum + self.standalone[first],
                open_ & self.compat[first],
            )
            chosen.pop()
        self._dfs(chosen, taken, prod_mask, s_sum, open_ ^ low)

    def _beaten(self, bound: int, taken: int, open_: int) -> bool:
        """Whether no combination below a node (`taken` in, `open_` undecided) whose benefit is
        at most `bound` can be the answer."""
        # The best leaf found so far comes earlier in the search order: it also wins a tie.
        if self.best is not None and bound <= self.best.benefit:
            return True
        if self.floor is None:
            return False
        if bound < self.floor.benefit:
            return True
        # The greedy floor wins a tie only against combinations that come after it: those
        # that, at the first decided item where they differ from it, leave out what it takes.
        low = open_ & -open_
        diff = (self.floor_mask ^ taken) & (low - 1 if low else -1)
        return bound == self.floor.benefit and bool(self.floor_mask & diff & -diff)

    def _greedy(self, product_aware: bool) -> tuple[list[Candidate], int, int]:
        """Items by stand-alone value, each taken if it fits with those taken before (and, when
        `product_aware`, if it is worth more than the product discounts it turns away).
        Returns the items, the product promotions they allow, and an optimistic estimate."""
        chosen: list[Candidate] = []
        prod_mask = (1 << len(self.prod)) - 1
        open_ = (1 << len(self.items)) - 1
        estimate = 0
        items, standalone, allowed, compat = self.items, self.standalone, self.allowed, self.compat
        bound_prod = self._bound_prod
        now = bound_prod(prod_mask) if product_aware else 0
        # Highest stand-alone value first, ties in item order (the sort is stable).
        for j in sorted(range(len(items)), key=standalone.__getitem__, reverse=True):
            x = items[j]
            if x.exclusive or not open_ >> j & 1:
                continue
            narrowed = prod_mask & allowed[j]
            if product_aware:
                after = now if narrowed == prod_mask else bound_prod(narrowed)
                if standalone[j] + after - now <= 0:
                    continue
                now = after
            chosen.append(x)
            estimate += standalone[j]
            prod_mask = narrowed
            open_ &= compat[j]
        return chosen, prod_mask, estimate + bound_prod(prod_mask)

    def solve(self) -> tuple[Outcome, bool]:
        items, mask, _ = self._greedy(True)
        floor = self._evaluate(items, mask)
        items, mask, estimate = self._greedy(False)
        # The plain greedy can beat the product-aware one only if its optimistic estimate does.
        if estimate > floor.benefit:
            plain = self._evaluate(items, mask)
            if plain.benefit > floor.benefit:
                floor = plain
        self.floor = floor
        index = {c.rank: j for j, c in enumerate(self.items)}
        self.floor_mask = sum(1 << index[c.rank] for c in floor.chosen if c.rank in index)
        everything = (1 << len(self.items)) - 1
        self._dfs([], 0, (1 << len(self.prod)) - 1, 0, everything)
        best = self.best
        if best is None or (self.stopped and floor.benefit > best.benefit):
            best = floor
        if self.fast:  # what each product promotion kept, for the result
            ranks = {c.rank for c in best.chosen}
            mask = sum(1 << b for b, p in enumerate(self.prod) if p.rank in ranks)
            split_products(best, self.table, mask)
        return best, not self.stopped


# The nodes the search visits for one non-product candidate: the root, with it, without it.
_ONE_ITEM_NODES = 3


def choose(ctx: Ctx, cands: list[Candidate], max_nodes: int) -> tuple[Outcome, bool]:
    """The best permitted combination of `cands` (in priority order) and whether the search
    was exhaustive."""
    if len(cands) == 1 and cands[0].phase != PRODUCT_PHASE and max_nodes >= _ONE_ITEM_NODES:
        # Most carts have one candidate (an order, shipping, cashback or gift promotion):
        # the search's answer is it alone (taken before left out, worth more than nothing),
        # evaluated on an empty product phase; building the search costs more than that.
        return run(ctx, [cands[0]], (0, [0] * len(ctx.idx.amounts))), True
    return _Search(ctx, cands, max_nodes).solve()

"""Promotions (F-06): coupons, automatic discounts, stacking rules, limits and budgets.

The engine is pure (`shopops.promotions.rules`): no database, no I/O.
"""

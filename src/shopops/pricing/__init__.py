"""Pricing: list prices with their history, price lists (member and channel prices), the
dynamic repricing rule, and flash sales (秒杀).

A flash sale lives here, not in promotions, because it is a time-boxed price with its own stock
pool: what it sells is counted against a pool and a per-customer quota in the order's
transaction, and the order keeps reserving warehouse stock through checkout like any other.
"""

"""Suppliers and purchasing (F-04): suppliers, purchase orders, receiving, scorecards."""

"""Analyses (F-21 – F-26): funnel, paths, retention, RFM/lifecycle, CLV, basket, channel ROI.

One module each; see docs/analyses.md for the semantics."""

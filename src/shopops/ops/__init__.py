"""Operations (issue 7): alert rules over the metrics registry, the seasonal anomaly detector
with attribution, and notifications. See docs/operations.md."""

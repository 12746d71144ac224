"""The seasonal (weekday-aware) anomaly detector and the attribution of a change."""

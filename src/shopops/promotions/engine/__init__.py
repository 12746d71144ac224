"""The promotion engine's modules; import the public API from `shopops.promotions.rules`."""

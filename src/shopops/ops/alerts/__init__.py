"""Alert rules as data, their evaluation over the metrics registry, alerts' life cycle."""

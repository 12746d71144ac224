"""Goals (F-28): targets on registry metrics per period, with progress, pace and forecast."""

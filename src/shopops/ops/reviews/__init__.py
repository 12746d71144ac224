"""Daily / weekly / monthly review reports (F-31): KPIs vs the previous period, the GMV
decomposition, movers, the period's alerts with their attribution; HTML and PDF."""

"""Metrics: every metric of every rep for a period (vectorised), their benchmarks,
progress against goals, the success plan, and month series with their trends."""

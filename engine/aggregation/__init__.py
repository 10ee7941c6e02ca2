"""Aggregation: the period under review, and the heavy per-rep aggregates behind every metric.

Raw rows (millions of activities, stage changes, deals) become small per-rep arrays here:
the daily activity cube, stage passages, closed-deal windows; metric code reads only those.
"""
from .cube import ActivityCube, build_cube
from .period import Period, parse_month, resolve_period

__all__ = ["ActivityCube", "Period", "build_cube", "parse_month", "resolve_period"]

"""Progress reports (seed 000's daily dashboards): the full funnel by division, team or
rep, by day, week or month: every activity type, opportunities created, entries to every
stage (won deals among them), revenue, and goals where they exist.

Two stages: `facts` reads the month's events from a dataset's tables with SQL through
its backend (small frames: per rep and day, per opportunity entry); `build` buckets and
groups them, vectorised; `render` writes CSV (long form), JSON or HTML.
"""
from .build import GRAINS, LEVELS, Report, build_report, report_metrics
from .facts import Facts, month_facts, report_window

__all__ = ["GRAINS", "LEVELS", "Facts", "Report", "build_report", "month_facts", "report_metrics",
           "report_window"]

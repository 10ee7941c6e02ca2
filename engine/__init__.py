"""fairway's engine: datasets, metrics, statistics, rules and the coaching dialogue.

Pure Python over pandas, scipy and durable_rules; it never imports Flask.
"""
__version__ = "0.1.0"

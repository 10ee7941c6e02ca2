"""The coaching rhythm's arithmetic: a plan's KPI against its baseline and target, and the
coaching-effectiveness figures of seed 002. Pure functions over plain values and frames."""

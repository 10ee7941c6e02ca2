"""Statistics and gaps: is a rep's distance to a benchmark more than chance, for every gap.

``stats`` holds the tests (beta-binomial, negative binomial, robust z, false-discovery
control, trends); ``gaps`` compares every rep with the benchmark of every catalog gap.
"""

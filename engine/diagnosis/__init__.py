"""Diagnosis: findings down the pyramid (performance, behaviour, root cause), what closing
each is worth, the one focus per rep; the analysis of a period and the documents the CLI,
the API and the pages show."""
from .diagnose import Diagnosis, Finding, Focus, RepDiagnosis, diagnose

__all__ = ["Diagnosis", "Finding", "Focus", "RepDiagnosis", "diagnose"]

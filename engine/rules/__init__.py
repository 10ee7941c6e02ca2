"""Rules: the catalog compiled to one durable_rules ruleset (``compile``), and the one
module that touches durable_rules (``adapter``), with every trap of the engine handled."""
from .compile import Compiled, compile_catalog

__all__ = ["Compiled", "compile_catalog"]

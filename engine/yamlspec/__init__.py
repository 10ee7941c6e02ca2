"""The one place YAML is parsed (``parse``), and typed, frozen specs built from it (``spec``).

The catalog and the import mappings both go through here: every problem comes back as a
Problem naming the file, line and key.
"""
from .parse import Located, dotted, load_yaml, parse_yaml
from .spec import Spec, validate_located

__all__ = ["Located", "Spec", "dotted", "load_yaml", "parse_yaml", "validate_located"]

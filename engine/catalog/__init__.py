"""The coaching catalog: rules/ and learning_library/, parsed once into frozen specs."""
from .loader import default_root, inspect_catalog, load_catalog, load_pipeline
from .model import Catalog

__all__ = ["Catalog", "default_root", "inspect_catalog", "load_catalog", "load_pipeline"]

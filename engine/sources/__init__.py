"""Sources: CRM exports (and warehouse syncs) turned into dataset folders, as a mapping says.

``mapping`` parses and checks a mapping file; ``importer`` runs it over a folder of export
files, all or nothing, and validates the result against the data contract.
"""
from .importer import import_dataset
from .mapping import Mapping, load_mapping, parse_mapping, shipped_mapping_choices, shipped_mappings
from .report import ImportReport, coverage_rows

__all__ = ["ImportReport", "Mapping", "coverage_rows", "import_dataset", "load_mapping", "parse_mapping",
           "shipped_mapping_choices", "shipped_mappings"]

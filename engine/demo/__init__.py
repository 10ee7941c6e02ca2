"""The demo org: a deterministic generated sales org with planted deficiencies and ground truth."""
from .org import generate_org, write_org

__all__ = ["generate_org", "write_org"]

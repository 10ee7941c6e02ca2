"""Datasets: the CRM data of one org, read, validated whole and typed."""
from .model import Dataset
from .validate import load_dataset

__all__ = ["Dataset", "load_dataset"]

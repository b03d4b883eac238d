"""Revisit: patient recall for clinic chains. The domain package shipped to every Lambda."""

__version__ = "0.1.0"

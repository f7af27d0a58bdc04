"""Guideline files (Förderrichtlinien) as TOML, and the two packaged programs."""

from grantflow.guidelines.loader import BUILTIN, load, load_file, load_text

__all__ = ["BUILTIN", "load", "load_file", "load_text"]

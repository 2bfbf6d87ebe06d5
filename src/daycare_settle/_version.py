"""The library's version, recorded in every result (kept equal to ``pyproject.toml``'s)."""

__version__ = "0.1.0"

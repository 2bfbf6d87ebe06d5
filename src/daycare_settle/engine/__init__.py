"""The settlement engine: one module per decision, strung together by :mod:`.settle`."""

from .settle import parse_episode, settle, settle_episode

__all__ = ["parse_episode", "settle", "settle_episode"]

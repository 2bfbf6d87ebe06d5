"""Rule files: schema, safe loading, registry by id and date."""

from .loader import Catalogue, Policy, clear_cache, load_policy_file
from .registry import policy_ids, refresh, resolve_policy, rules_root, versions

__all__ = [
    "Catalogue",
    "Policy",
    "clear_cache",
    "load_policy_file",
    "policy_ids",
    "refresh",
    "resolve_policy",
    "rules_root",
    "versions",
]

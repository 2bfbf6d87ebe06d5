"""Rule files: schema, safe loading, registry by id and date."""

from .loader import Catalogue, Policy, load_policy_file
from .registry import policy_ids, resolve_policy, rules_root, versions

__all__ = [
    "Catalogue",
    "Policy",
    "load_policy_file",
    "policy_ids",
    "resolve_policy",
    "rules_root",
    "versions",
]

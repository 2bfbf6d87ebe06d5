"""The policy kit: Hypothesis strategies and invariants for testing a rule file.

Needs Hypothesis (``pip install "daycare_settle[testing]"``)::

    from daycare_settle.testing import check_policy_invariants, episodes

    check_policy_invariants("rules/mycity/mycity-2025-1.yaml")   # raises AssertionError

    @given(episodes("mycity", "day_surgery", stay="any", conversion=None))
    def test_my_rule(episode): ...

See ``docs/testing-your-policy.md``.
"""

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        'daycare_settle.testing needs Hypothesis: pip install "daycare_settle[testing]"'
    ) from exc

from .invariants import (
    check_booking_does_not_escape,
    check_conservation,
    check_conversion_dominance,
    check_determinism,
    check_episode,
    check_merge_sides,
    check_monotone_merge,
    check_policy_invariants,
    check_round_trip,
    check_time_limit_boundaries,
    extra_charges,
)
from .strategies import (
    BadInput,
    Stay,
    UnsupportedRule,
    amounts,
    categories,
    episodes,
    invalid_episodes,
    malformed_json,
)

__all__ = [
    "BadInput",
    "Stay",
    "UnsupportedRule",
    "amounts",
    "categories",
    "check_booking_does_not_escape",
    "check_conservation",
    "check_conversion_dominance",
    "check_determinism",
    "check_episode",
    "check_merge_sides",
    "check_monotone_merge",
    "check_policy_invariants",
    "check_round_trip",
    "check_time_limit_boundaries",
    "episodes",
    "extra_charges",
    "invalid_episodes",
    "malformed_json",
]

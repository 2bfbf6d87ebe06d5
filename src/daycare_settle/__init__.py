"""daycare_settle — settles day-care episodes under Chinese medical-insurance policies.

>>> from daycare_settle import settle
>>> result = settle(episode, policy="panzhihua")     # doctest: +SKIP
>>> result.model_dump(mode="json")                    # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os

from ._version import __version__
from .engine import parse_episode, settle
from .errors import (
    DaycareSettleError,
    FieldProblem,
    InvalidArgument,
    InvalidEpisode,
    PolicyLoadError,
    PolicyNotInForce,
    PolicyUnconfirmed,
    UnknownPolicy,
)
from .models import Episode, Settlement
from .policy import Policy, policy_ids, resolve_policy


def load_policy(policy: str | os.PathLike[str], on: dt.date | None = None) -> Policy:
    """Load a policy by bundled id or rule-file path; with ``on`` (a ``datetime.date``), the
    version in force then (:class:`PolicyNotInForce` if none), else the newest version. A
    ``policy`` or ``on`` of the wrong type raises :class:`InvalidArgument`; a path that is
    not a readable regular file, :class:`PolicyLoadError`."""
    return resolve_policy(policy, on=on)


__all__ = [
    "DaycareSettleError",
    "Episode",
    "FieldProblem",
    "InvalidArgument",
    "InvalidEpisode",
    "Policy",
    "PolicyLoadError",
    "PolicyNotInForce",
    "PolicyUnconfirmed",
    "Settlement",
    "UnknownPolicy",
    "__version__",
    "load_policy",
    "parse_episode",
    "policy_ids",
    "settle",
]

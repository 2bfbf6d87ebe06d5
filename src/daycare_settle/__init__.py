"""daycare_settle — settles day-care episodes under Chinese medical-insurance policies.

>>> from daycare_settle import settle
>>> result = settle(episode, policy="panzhihua")     # doctest: +SKIP
>>> result.model_dump(mode="json")                    # doctest: +SKIP

Platform records in (:func:`settle_records`, :func:`records_to_episode`), the platform's
3101 review out (:func:`review_episode`, :func:`review_3101`) and the audit across episodes
(:func:`audit_many`) are exported here too.
"""

from __future__ import annotations

import datetime as dt
import os

from ._version import __version__
from .audit import OutOfOrder, UnknownProfile, audit_many
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
from .platform import (
    InvalidPlatformRecords,
    PlatformNotConfigured,
    PlatformRecords,
    records_to_episode,
    settle_records,
)
from .platform.review import InvalidFeeDetail, PlatformReview, review_3101, review_episode
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
    "InvalidFeeDetail",
    "InvalidPlatformRecords",
    "OutOfOrder",
    "PlatformNotConfigured",
    "PlatformRecords",
    "PlatformReview",
    "Policy",
    "PolicyLoadError",
    "PolicyNotInForce",
    "PolicyUnconfirmed",
    "Settlement",
    "UnknownPolicy",
    "UnknownProfile",
    "__version__",
    "audit_many",
    "load_policy",
    "parse_episode",
    "policy_ids",
    "records_to_episode",
    "review_3101",
    "review_episode",
    "settle",
    "settle_records",
]

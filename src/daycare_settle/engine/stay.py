"""Charges of the stay itself: day-care charges inside the stay, and ward charges after a
conversion. A charge dated outside the part of the stay its setting names is disallowed.

Under a ``separate`` conversion the ward part (from the conversion instant) is another
settlement: its charges, whatever their booking, are ``not_merged``
(``WARD_STAY_SETTLED_SEPARATELY``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..codes import LineReason
from ..models.common import Setting
from ..models.episode import Charge, Episode
from ..policy.loader import Policy
from ..policy.schema import ConvertToOrdinaryInpatient, PatientSide
from .lines import INCLUDED, Placement, disallowed, new_tuple, not_merged
from .trace import cite, once_per_policy


def stay_placer(
    episode: Episode,
    policy: Policy,
    patient_rule: PatientSide,
    conversion: ConvertToOrdinaryInpatient | None,
) -> Callable[[Charge], Placement]:
    """The placer of the ``day_care`` and ``inpatient`` charges of ``episode``: the stay's
    edges are fixed once per settlement, and the refusals (a reason and a citation, one
    shared record each) once per policy."""
    admitted, discharged = episode.admitted_at, episode.discharged_at
    patient_citation = cite(policy, patient_rule)
    outside, without_conversion = once_per_policy(
        policy,
        patient_rule,
        "place.stay",
        lambda: (
            disallowed(LineReason.CHARGE_OUTSIDE_STAY, patient_citation),
            # inpatient: the model guarantees a conversion on the episode; the policy may
            # refuse it
            disallowed(LineReason.WARD_CHARGE_WITHOUT_SETTLED_CONVERSION, patient_citation),
        ),
    )
    converted_at = None if episode.conversion is None else episode.conversion.at
    day_care_citation = patient_citation
    ward = separate_ward_part(episode, policy, conversion)
    separate_from = None if ward is None else ward[0]
    elsewhere = before_conversion = None
    separate = ward is not None
    if conversion is not None:
        conversion_citation = cite(policy, conversion)
        elsewhere, before_conversion = _ward_placements(policy, conversion)
        if conversion.mode == "merged":
            day_care_citation = conversion_citation
    in_stay, after_conversion = LineReason.IN_STAY, LineReason.IN_WARD_AFTER_CONVERSION
    day_care = Setting.DAY_CARE

    def place(charge: Charge) -> Placement:
        at = charge.at
        if not admitted <= at <= discharged:
            return outside
        if charge.setting is day_care:
            if separate_from is not None and at >= separate_from:
                assert elsewhere is not None
                return elsewhere
            return new_tuple(Placement, (INCLUDED, charge.amount, in_stay, day_care_citation, None))
        if conversion is None:
            return without_conversion
        assert converted_at is not None  # the model guarantees it for an inpatient charge
        assert elsewhere is not None  # made with the conversion
        assert before_conversion is not None
        if at < converted_at:
            return before_conversion
        if separate:
            return elsewhere
        return new_tuple(
            Placement, (INCLUDED, charge.amount, after_conversion, conversion_citation, None)
        )

    return place


def separate_ward_part(
    episode: Episode, policy: Policy, conversion: ConvertToOrdinaryInpatient | None
) -> tuple[dt.datetime, Placement] | None:
    """Under a ``separate`` conversion, the instant from which the ward part settles
    elsewhere (the conversion's, which belongs to the ward) and the placement of a charge
    dated in it; ``None`` otherwise."""
    if conversion is None or conversion.mode != "separate" or episode.conversion is None:
        return None
    return episode.conversion.at, _ward_placements(policy, conversion)[0]


def _ward_placements(
    policy: Policy, conversion: ConvertToOrdinaryInpatient
) -> tuple[Placement, Placement]:
    """A charge in a ward part settled elsewhere, and a ward charge dated before the
    conversion: one record each per policy, citing the conversion rule."""
    citation = cite(policy, conversion)
    placements: tuple[Placement, Placement] = once_per_policy(
        policy,
        conversion,
        "place.ward",
        lambda: (
            not_merged(LineReason.WARD_STAY_SETTLED_SEPARATELY, citation),
            disallowed(LineReason.WARD_CHARGE_BEFORE_CONVERSION, citation),
        ),
    )
    return placements

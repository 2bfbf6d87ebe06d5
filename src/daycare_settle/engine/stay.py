"""Charges of the stay itself: day-care charges inside the stay, and ward charges after a
conversion. A charge dated outside the part of the stay its setting names is disallowed.

Under a ``separate`` conversion the ward part (from the conversion instant) is another
settlement: its charges, whatever their booking, are ``not_merged``
(``WARD_STAY_SETTLED_SEPARATELY``)."""

from __future__ import annotations

from ..codes import LineReason
from ..models.common import Setting
from ..models.episode import Charge, Episode
from ..policy.loader import Policy
from ..policy.schema import ConvertToOrdinaryInpatient, PatientSide
from .conversion import in_separate_ward_part
from .lines import Placement, disallowed, included, not_merged
from .trace import cite


def place_stay_charge(
    episode: Episode,
    policy: Policy,
    patient_rule: PatientSide,
    conversion: ConvertToOrdinaryInpatient | None,
    charge: Charge,
) -> Placement:
    """Decide a ``day_care`` or ``inpatient`` charge."""
    if not episode.admitted_at <= charge.at <= episode.discharged_at:
        return disallowed(LineReason.CHARGE_OUTSIDE_STAY, cite(policy, patient_rule))
    if charge.setting is Setting.DAY_CARE:
        if in_separate_ward_part(episode, conversion, charge):
            return not_merged(LineReason.WARD_STAY_SETTLED_SEPARATELY, cite(policy, conversion))
        merged = conversion is not None and conversion.mode == "merged"
        rule = conversion if merged else patient_rule
        return included(charge.amount, LineReason.IN_STAY, cite(policy, rule))
    # inpatient: the model guarantees a conversion on the episode; the policy may refuse it
    if conversion is None:
        return disallowed(
            LineReason.WARD_CHARGE_WITHOUT_SETTLED_CONVERSION, cite(policy, patient_rule)
        )
    assert episode.conversion is not None
    if charge.at < episode.conversion.at:
        return disallowed(LineReason.WARD_CHARGE_BEFORE_CONVERSION, cite(policy, conversion))
    if conversion.mode == "separate":
        return not_merged(LineReason.WARD_STAY_SETTLED_SEPARATELY, cite(policy, conversion))
    return included(charge.amount, LineReason.IN_WARD_AFTER_CONVERSION, cite(policy, conversion))

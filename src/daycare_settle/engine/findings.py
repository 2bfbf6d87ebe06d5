"""What the decisions of one settlement report on the way: rejections, flags, trace."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models.settlement import Flag, RejectionReason, TraceStep


@dataclass
class Findings:
    """Collected in decision order; the orchestrator turns them into the settlement."""

    rejections: list[RejectionReason] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)

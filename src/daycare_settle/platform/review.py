"""A settlement in the shape of the platform's smart-review answer (3101), and one
disposition per fee-detail row, so a HIS marks its rows without re-deriving anything.

:func:`review_3101` maps a :class:`~daycare_settle.Settlement` to a :class:`PlatformReview`:

- ``result``: one entry per finding, spelled like the 3101 output's ``result`` node (``jr_id``,
  ``rule_id``, ``rule_name``, ``vola_cont``, ``patn_id``, ``mdtrt_id``, ``vola_amt``,
  ``vola_amt_stas``, ``sev_deg``, ``vola_evid``, ``vola_bhvr_type``, ``task_id`` and the
  per-item ``judge_result_detail_dtos``), in this order: the rejection reasons, then the
  disallowed money grouped by line reason (a rejected episode's ``EPISODE_REJECTED`` lines
  are carried by its rejection entries instead), then the flags — each in the settlement's
  order;
- ``rows``: one disposition per fee-detail row (``feedetl_sn``), or per charge line when no
  rows are given. A refund row (``init_feedetl_sn`` naming the original row) carries the
  disposition of the charge it nets into.

Readings (documented in ``docs/platform-review.md``): ``sev_deg`` is ``"1"`` (明确违规) for a
rejection, disallowed money and a ``violation`` flag, ``"2"`` (高度可疑) for a ``warning`` flag
and ``"3"`` (轻度可疑) for an ``info`` flag; ``vola_item_type`` is ``"1"`` (违规项) for a line
whose money is disallowed and ``"2"`` (涉及项) for a line a finding only names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

from ..engine.settle import EpisodeInput, parse_episode, settle
from ..errors import DaycareSettleError
from ..models.common import FrozenModel, Money
from ..models.episode import Episode
from ..models.settlement import Citation, Disposition, Line, Settlement, Totals
from ..policy.loader import Policy

__all__ = [
    "SEVERITY",
    "FeeDetailRow",
    "InvalidFeeDetail",
    "PlatformReview",
    "ReviewDetail",
    "ReviewResult",
    "RowDisposition",
    "review_3101",
    "review_episode",
]

ZERO = Decimal("0.00")

SEVERITY: dict[str, tuple[Literal["1", "2", "3"], str]] = {
    "rejection": ("1", "明确违规"),
    "disallowed": ("1", "明确违规"),
    "violation": ("1", "明确违规"),
    "warning": ("2", "高度可疑"),
    "info": ("3", "轻度可疑"),
}
"""``sev_deg`` code and name by finding kind (a reading: see ``docs/platform-review.md``)."""

_KIND_TEXT: dict[str, tuple[str, str]] = {
    "rejection": ("本次就诊不予按日间医疗结算", "the episode is not settled as day care"),
    "disallowed": ("以下费用明细不予医保支付", "these fee-detail items are not paid"),
    "violation": ("稽核发现违规", "audit finding (violation)"),
    "warning": ("稽核提示（疑点）", "audit finding (warning)"),
    "info": ("稽核提示（信息）", "audit finding (information)"),
}


class InvalidFeeDetail(DaycareSettleError, ValueError):
    """The fee-detail rows do not match the settlement: a row's charge is not in it, a row
    lacks or repeats a ``feedetl_sn``, or a charge has no row of its own."""

    code = "invalid_feedetail"


class ReviewDetail(FrozenModel):
    """One item of a finding (the 3101 ``judge_result_detail_dtos`` entry)."""

    jrd_id: str
    patn_id: str | None
    mdtrt_id: str
    rx_id: str | None
    """The prescription (order) id: not known to a settlement, always ``null``."""
    feedetl_sn: str
    """The fee-detail row (= the charge id, the original row's ``feedetl_sn``)."""
    vola_item_type: Literal["1", "2"]
    """``1`` 违规项 (its money is disallowed), ``2`` 涉及项 (named by the finding)."""
    vola_amt: Money
    """The disallowed part of the line for a rejection or disallowance; for a flag, the
    line's amount."""


class ReviewResult(FrozenModel):
    """One finding (the 3101 ``result`` entry), plus where it comes from."""

    jr_id: str
    rule_id: str
    """The stable code: a rejection code, a line reason or a flag code."""
    rule_name: str
    vola_cont: str
    """A Chinese and an English sentence."""
    patn_id: str | None
    """The patient id, when the episode is given."""
    mdtrt_id: str
    """The episode id."""
    vola_amt: Money
    vola_amt_stas: str | None
    """Not set: the platform's dictionary for it was not verified."""
    sev_deg: Literal["1", "2", "3"]
    sev_deg_name: str
    vola_evid: str
    """The clause cited and, where the trace quotes it, its original wording."""
    vola_bhvr_type: str | None
    """Not set: the platform's dictionary for it was not verified."""
    task_id: str | None
    """Not set: a platform review task id; a settlement has none."""
    judge_result_detail_dtos: tuple[ReviewDetail, ...]
    source: Literal["rejection", "line", "flag"]
    citation: Citation | None


class RowDisposition(FrozenModel):
    """What became of one fee-detail row: the disposition of the charge it maps to."""

    feedetl_sn: str
    charge_id: str
    refund_of: str | None
    """For a refund row, the ``feedetl_sn`` of the original row it nets into."""
    disposition: Disposition
    reason: str
    citation: Citation | None
    amount: Money
    """The charge line's amount (net of its refunds)."""
    allowed_amount: Money
    disallowed_amount: Money
    """The part of the line counted as disallowed (a capped fee's excess included)."""


class PlatformReview(FrozenModel):
    """The settlement's findings in 3101 shape and a disposition per fee-detail row."""

    episode_id: str
    policy_id: str
    policy_version: str
    status: Literal["settled", "rejected"]
    result: tuple[ReviewResult, ...]
    rows: tuple[RowDisposition, ...]
    totals: Totals

    def to_json(self, *, indent: int | None = 2) -> str:
        """Canonical JSON: the same settlement and rows give the same bytes."""
        return self.model_dump_json(indent=indent)


class FeeDetailRow(FrozenModel):
    """The two fields of a platform fee-detail row (2301 ``feedetail``) a review reads."""

    feedetl_sn: str
    init_feedetl_sn: str | None = None


def review_3101(
    settlement: Settlement,
    episode: Episode | None = None,
    rows: Sequence[Mapping[str, object] | object] | None = None,
) -> PlatformReview:
    """The 3101-shaped findings of ``settlement`` and a disposition per fee-detail row.

    ``episode`` (optional) supplies ``patn_id``. ``rows`` are the platform's fee-detail rows
    (mappings or objects with ``feedetl_sn`` and optional ``init_feedetl_sn``); without them,
    one disposition per charge line. Raises :class:`InvalidFeeDetail` when the rows do not
    match the settlement's charges."""
    patn_id = None if episode is None else episode.patient.id
    mdtrt_id = settlement.episode_id
    lines = {line.charge_id: line for line in settlement.lines}
    quotes = _quotes(settlement)
    entries: list[ReviewResult] = []

    def add(
        rule_id: str,
        kind: str,
        message: str,
        citation: Citation | None,
        items: list[tuple[Line, Decimal, Literal["1", "2"]]],
        source: Literal["rejection", "line", "flag"],
    ) -> None:
        jr_id = f"{mdtrt_id}-R{len(entries) + 1:03d}"
        details = tuple(
            ReviewDetail(
                jrd_id=f"{jr_id}-{n:03d}",
                patn_id=patn_id,
                mdtrt_id=mdtrt_id,
                rx_id=None,
                feedetl_sn=line.charge_id,
                vola_item_type=item_type,
                vola_amt=amount,
            )
            for n, (line, amount, item_type) in enumerate(items, start=1)
        )
        code, name = SEVERITY[kind]
        zh, en = _KIND_TEXT[kind]
        entries.append(
            ReviewResult(
                jr_id=jr_id,
                rule_id=rule_id,
                rule_name=_title(rule_id),
                vola_cont=f"{zh}（{rule_id}）。{en.capitalize()}: {message.rstrip('.')}.",
                patn_id=patn_id,
                mdtrt_id=mdtrt_id,
                vola_amt=sum((amount for _, amount, _ in items), ZERO),
                vola_amt_stas=None,
                sev_deg=code,
                sev_deg_name=name,
                vola_evid=_evidence(citation, quotes),
                vola_bhvr_type=None,
                task_id=None,
                judge_result_detail_dtos=details,
                source=source,
                citation=citation,
            )
        )

    rejected = [line for line in settlement.lines if line.reason == "EPISODE_REJECTED"]
    for reason in settlement.rejection_reasons:
        items = [(line, _disallowed(line), _item_type(line)) for line in rejected]
        add(reason.code, "rejection", reason.message, reason.citation, items, "rejection")
    groups: dict[tuple[str, Citation | None], list[Line]] = {}
    for line in settlement.lines:
        if _disallowed(line) > ZERO and not (
            settlement.rejection_reasons and line.reason == "EPISODE_REJECTED"
        ):
            groups.setdefault((line.reason, line.citation), []).append(line)
    for (reason_code, citation), group in groups.items():
        ids = ", ".join(line.charge_id for line in group)
        add(
            reason_code,
            "disallowed",
            f"{len(group)} line(s) with disallowed money: {ids}",
            citation,
            [(line, _disallowed(line), "1") for line in group],
            "line",
        )
    for flag in settlement.flags:
        named = [lines[i] for i in dict.fromkeys(flag.charge_ids) if i in lines]
        items = [(line, line.amount, _item_type(line)) for line in named]
        add(flag.code, flag.severity, flag.message, flag.citation, items, "flag")

    return PlatformReview(
        episode_id=settlement.episode_id,
        policy_id=settlement.policy.id,
        policy_version=settlement.policy.version,
        status=settlement.status,
        result=tuple(entries),
        rows=_rows(settlement, lines, rows),
        totals=settlement.totals,
    )


def _disallowed(line: Line) -> Decimal:
    if line.disposition == Disposition.DISALLOWED:
        return line.amount
    if line.disposition == Disposition.INCLUDED:
        return line.amount - line.allowed_amount
    return ZERO


def _item_type(line: Line) -> Literal["1", "2"]:
    return "1" if _disallowed(line) > ZERO else "2"


def _title(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _quotes(settlement: Settlement) -> dict[Citation, str]:
    """The original wording of each clause the trace quotes (first quote wins)."""
    found: dict[Citation, str] = {}
    for step in settlement.trace:
        if step.citation is not None and step.quote is not None:
            found.setdefault(step.citation, step.quote)
    return found


def _evidence(citation: Citation | None, quotes: Mapping[Citation, str]) -> str:
    if citation is None:
        return "无条款引用 / no clause cited"
    where = f"{citation.document} {citation.clause}"
    quote = quotes.get(citation)
    return where if quote is None else f"{where}：{quote}"


def _disposition(line: Line, feedetl_sn: str, refund_of: str | None) -> RowDisposition:
    return RowDisposition(
        feedetl_sn=feedetl_sn,
        charge_id=line.charge_id,
        refund_of=refund_of,
        disposition=line.disposition,
        reason=line.reason,
        citation=line.citation,
        amount=line.amount,
        allowed_amount=line.allowed_amount,
        disallowed_amount=_disallowed(line),
    )


def _rows(
    settlement: Settlement,
    lines: Mapping[str, Line],
    rows: Sequence[Mapping[str, object] | object] | None,
) -> tuple[RowDisposition, ...]:
    if rows is None:
        return tuple(_disposition(line, line.charge_id, None) for line in settlement.lines)
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Sequence):
        raise InvalidFeeDetail("rows: a list of fee-detail rows is required")
    parsed = [_row(i, row) for i, row in enumerate(rows)]
    seen: dict[str, int] = {}
    originals: set[str] = set()
    out: list[RowDisposition] = []
    for i, row in enumerate(parsed):
        if row.feedetl_sn in seen:
            raise InvalidFeeDetail(
                f"rows[{i}].feedetl_sn: {row.feedetl_sn!r} repeats rows[{seen[row.feedetl_sn]}]"
            )
        seen[row.feedetl_sn] = i
        if row.init_feedetl_sn == row.feedetl_sn:
            raise InvalidFeeDetail(f"rows[{i}].init_feedetl_sn: a row cannot refund itself")
        charge_id = row.init_feedetl_sn or row.feedetl_sn
        line = lines.get(charge_id)
        if line is None:
            field = "init_feedetl_sn" if row.init_feedetl_sn else "feedetl_sn"
            raise InvalidFeeDetail(
                f"rows[{i}].{field}: {charge_id!r} is no charge of settlement "
                f"{settlement.episode_id!r}"
            )
        if row.init_feedetl_sn is None:
            originals.add(charge_id)
        out.append(_disposition(line, row.feedetl_sn, row.init_feedetl_sn))
    missing = [line.charge_id for line in settlement.lines if line.charge_id not in originals]
    if missing:
        raise InvalidFeeDetail(
            f"rows: no fee-detail row of its own for charge(s) {', '.join(missing)} "
            "(a charge's id is its original row's feedetl_sn)"
        )
    return tuple(out)


def _row(index: int, row: Mapping[str, object] | object) -> FeeDetailRow:
    values: dict[str, object] = {}
    for name in ("feedetl_sn", "init_feedetl_sn"):
        value = row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)
        if value is None or value == "":
            if name == "feedetl_sn":
                raise InvalidFeeDetail(f"rows[{index}].feedetl_sn: required")
            continue
        if not isinstance(value, str):
            raise InvalidFeeDetail(
                f"rows[{index}].{name}: text is required, not {type(value).__name__}"
            )
        values[name] = value
    return FeeDetailRow.model_validate(values)


def review_episode(
    episode: EpisodeInput,
    policy: str | Path | Policy,
    rows: Sequence[Mapping[str, object] | object] | None = None,
    *,
    strict: bool = False,
) -> PlatformReview:
    """Settle ``episode`` under ``policy`` (as :func:`~daycare_settle.settle` does) and
    review the settlement: :func:`review_3101` with the episode's patient id."""
    parsed = parse_episode(episode)
    return review_3101(settle(parsed, policy=policy, strict=strict), parsed, rows)

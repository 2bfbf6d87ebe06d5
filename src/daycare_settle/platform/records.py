"""The national medical-insurance platform's records (医保信息平台接口) as a HIS uploads them,
and their conversion into an :class:`~daycare_settle.Episode`.

A record set is one JSON object:

- ``mdtrtinfo``: the admission record (2401 入院办理, node ``mdtrtinfo``);
- ``dscginfo``: the discharge record (2402 出院办理, node ``dscginfo``), whose ``mdtrt_id``
  is the day-care visit and the episode's ``episode_id``;
- ``diseinfo``: the discharge diagnoses (2402 node ``diseinfo``);
- ``feedetail``: the fee-detail rows (2301 住院费用明细上传, node ``feedetail``) of the
  day-care visit and of the same patient's outpatient visits around it (their own
  ``mdtrt_id``), refund rows included;
- ``supplement``: what the platform records do not carry and the engine needs (the
  institution's tier and filings, consent, sessions, conversion, clinical pathway, and per
  row what a fee row cannot say: related to the stay, route, another institution).

Field names are the platform's own (lower-case snake case, as in the interface documents).
Platform blocks carry many more fields than are read here; fields not read are accepted and
ignored (``docs/integration.md`` lists what is read). The ``supplement`` is this library's
own and refuses unknown keys.

Times are ``yyyy-MM-dd HH:mm:ss`` (Asia/Shanghai). Numbers keep the platform's precision:
``det_item_fee_sumamt`` (16,2), ``cnt`` (16,4), ``pric`` (16,6); more decimals are refused,
never rounded. ``det_item_fee_sumamt`` is not checked against ``cnt × pric`` (a reading: a
HIS rounds the product its own way; the amount is what was charged and uploaded).

Refunds (退费): a row with a negative ``cnt`` and ``init_feedetl_sn`` naming the original
row nets into that original; the charge keeps the original's ``feedetl_sn`` as its id (a
fully refunded row stays, as a 0.00 charge). A refund naming no row of the set, naming a
refund, of another visit or item, or refunding more than was charged is refused.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)

from ..errors import DaycareSettleError, FieldProblem, InvalidEpisode, field_problem
from ..exact_json import loads_exact
from ..models.common import (
    SHANGHAI,
    Category,
    CodeSystem,
    CodeText,
    FrozenModel,
    Identifier,
    Programme,
    ReasonText,
    Route,
    Setting,
)
from ..models.episode import (
    ClinicalPathway,
    Conversion,
    Episode,
    Institution,
    Session,
    error_problems,
)
from ..policy.loader import Policy
from ..policy.registry import resolve_policy


class InvalidPlatformRecords(InvalidEpisode):
    """The platform records are not valid input, or cannot be made into an episode: wrong
    types, a bad time or number, an unknown ``med_type``, a refund with no original or
    larger than it. ``problems`` name the record field (``feedetail[3].init_feedetl_sn``)."""

    code = "invalid_platform_records"
    SUBJECT = "invalid platform records"


class PlatformNotConfigured(DaycareSettleError, LookupError):
    """The policy's rule file has no ``platform:`` section, so no ``med_type`` code names
    one of its programmes: it cannot settle platform records."""

    code = "platform_not_configured"


T = TypeVar("T")

# --- values ---------------------------------------------------------------------------------

_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

CALENDAR_TIME_PATTERN = (
    r"^(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r" (?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
)
"""A platform time in the JSON Schema, with the calendar's ranges the reader enforces spelt
out: years 1900-2999, months 01-12, days 01-31, hours 00-23, minutes and seconds 00-59. What
it cannot say (a 31st of a 30-day month) is still refused, as ``invalid_platform_records``."""


def _to_time(value: object) -> dt.datetime:
    if type(value) is not str or not _TIME.fullmatch(value):
        shown = ascii(value) if type(value) is str else type(value).__name__
        raise ValueError(f"{shown} is not a platform time: write yyyy-MM-dd HH:mm:ss")
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "T") + "+08:00")
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date-time ({exc})") from None
    if not 1900 <= moment.year <= 2999:
        raise ValueError("a date-time must lie in the years 1900-2999")
    return moment.replace(tzinfo=SHANGHAI)


PlatformTime = Annotated[
    dt.datetime,
    BeforeValidator(_to_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CALENDAR_TIME_PATTERN,
            "description": "yyyy-MM-dd HH:mm:ss, Asia/Shanghai (UTC+08:00). Years 1900-2999.",
        }
    ),
]
"""A platform time ``yyyy-MM-dd HH:mm:ss``, read as Asia/Shanghai."""

_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def _platform_number(places: int, *, signed: bool) -> Callable[[object], Decimal]:
    """A reader of a platform number of precision (16, ``places``): a JSON number (read as
    an exact decimal), an integer or a decimal string; more than ``places`` decimals or 16
    digits are refused, never rounded."""
    integer_digits = 16 - places

    def read(value: object) -> Decimal:
        if isinstance(value, bool | float):
            raise ValueError(
                f"must be a decimal string or a JSON number, not {type(value).__name__}"
            )
        if isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, Decimal):
            number = value
        elif isinstance(value, str) and _DECIMAL.fullmatch(value):
            number = Decimal(value)
        else:
            shown = ascii(value)[:40] if isinstance(value, str) else type(value).__name__
            raise ValueError(f"{shown} is not a decimal number")
        if not number.is_finite():
            raise ValueError("must be a finite number")
        if number.is_signed() and number != 0 and not signed:
            raise ValueError("must not be negative")
        exponent = number.as_tuple().exponent
        assert isinstance(exponent, int)
        if exponent < -places and number != number.quantize(Decimal(1).scaleb(-places)):
            raise ValueError(
                f"has more than {places} decimal places (the platform's precision is 16,{places})"
            )
        if number != 0 and number.adjusted() >= integer_digits:  # no arithmetic: no overflow
            raise ValueError(f"has more than {integer_digits} integer digits (16,{places})")
        return abs(number) if number == 0 else number  # -0 is 0

    return read


def _number_schema(places: int, *, signed: bool, what: str) -> WithJsonSchema:
    """The schema of a (16, ``places``) number: a decimal string of at most 16 digits, or a
    JSON number under 10 ** (16 - places) in magnitude (not negative unless ``signed``)."""
    sign = "-?" if signed else ""
    bound = 10 ** (16 - places)
    number: dict[str, Any] = {"type": "number", "exclusiveMaximum": bound}
    if signed:
        number["exclusiveMinimum"] = -bound
    else:
        number["minimum"] = 0
    return WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": rf"^{sign}[0-9]{{1,{16 - places}}}(?:\.[0-9]{{1,{places}}})?$",
                },
                number,
            ],
            "description": f"{what}: precision (16,{places}); a decimal string is safest.",
        }
    )


Amount = Annotated[
    Decimal,
    BeforeValidator(_platform_number(2, signed=True)),
    _number_schema(2, signed=True, what="Yuan (negative on a refund row)"),
]
"""明细项目费用总额 and the like: (16,2)."""
Count = Annotated[
    Decimal,
    BeforeValidator(_platform_number(4, signed=True)),
    _number_schema(4, signed=True, what="Quantity (negative on a refund row)"),
]
"""数量: (16,4)."""
Price = Annotated[
    Decimal,
    BeforeValidator(_platform_number(6, signed=False)),
    _number_schema(6, signed=False, what="Unit price in yuan"),
]
"""单价: (16,6)."""

_CHARGE_TYPES = {c.national_code: c for c in Category}

ChargeType = Literal[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14"
]
"""医疗收费项目类别 ``med_chrgitm_type``: the 14 categories of the settlement list."""


def _blank_to_none(value: object) -> object:
    return None if value == "" else value


def _non_empty(items: tuple[T, ...]) -> tuple[T, ...]:
    # An after-validator rather than ``min_length`` (as the episode's lists): it runs only
    # when every item is valid, so one bad row is reported once, not also as "too few".
    if not items:
        raise ValueError("must list at least one item")
    return items


def _digits(value: object) -> object:
    """A platform numeric field sent as text (``"1"``): read as an integer."""
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 4:
        return int(value)
    return value


# --- records --------------------------------------------------------------------------------


class _Record(FrozenModel):
    """A platform block: the fields read are declared; the platform's other fields are
    accepted and ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Mdtrtinfo(_Record):
    """2401 admission (入院办理), node ``mdtrtinfo``."""

    psn_no: Identifier
    """人员编号: the patient (``patient.id``)."""
    insutype: Identifier
    """险种类型: read, not used."""
    begntime: PlatformTime
    """开始时间 (入院时间): ``admitted_at``."""
    med_type: Annotated[str, Field(min_length=1, max_length=6)]
    """医疗类别: the programme, through the policy's ``platform.med_types``."""
    ipt_no: Identifier
    """住院号: read, not used."""
    adm_dept_codg: Identifier
    """入院科室编码: read, not used (the engine takes the institution's departments)."""
    dise_codg: Identifier | None = None
    """病种编码 (for day surgery the day-surgery disease list code): read, not used."""
    oprn_oprt_code: CodeText | None = None
    """手术操作代码: the procedure where ``dscginfo`` gives none."""


class Dscginfo(_Record):
    """2402 discharge (出院办理), node ``dscginfo``."""

    mdtrt_id: Identifier
    """就诊ID of the day-care visit: ``episode_id``; its fee rows are the stay's."""
    psn_no: Identifier | None = None
    endtime: PlatformTime
    """结束时间 (出院时间): ``discharged_at``."""
    dise_codg: Identifier | None = None
    oprn_oprt_code: CodeText | None = None
    """手术操作代码 (ICD-9-CM-3): the procedure."""
    dscg_way: Identifier
    """离院方式: read, not used."""


class Diseinfo(_Record):
    """A discharge diagnosis (2402 node ``diseinfo``)."""

    diag_type: Literal["1", "2", "3"]
    """诊断类别: 1 西医诊断 (ICD-10), 2 中医主病诊断 and 3 中医主证诊断 (TCD)."""
    maindiag_flag: Literal["0", "1"]
    """主诊断标志: 1 for the principal diagnosis (exactly one)."""
    diag_srt_no: Annotated[
        int,
        Field(ge=0, le=99, strict=True),
        BeforeValidator(_digits),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "integer", "minimum": 0, "maximum": 99},
                    {"type": "string", "pattern": "^0{0,2}[0-9]{1,2}$"},
                ],
                "description": "0-99: an integer, or its digits as text (at most 4).",
            }
        ),
    ]
    """诊断排序号: the order of the other diagnoses, 0-99 (an integer, or up to four digits
    as text: ``"2"``, ``"0002"``)."""
    diag_code: CodeText
    diag_name: str | None = None


class Feedetail(_Record):
    """A fee-detail row (2301 node ``feedetail``)."""

    feedetl_sn: Identifier
    """费用明细流水号: the charge id."""
    init_feedetl_sn: Annotated[
        Identifier | None,
        BeforeValidator(_blank_to_none),
        WithJsonSchema(
            {
                "anyOf": [{"type": "string", "maxLength": 200}, {"type": "null"}],
                "description": "The refunded row's feedetl_sn; empty text or null: none.",
            }
        ),
    ] = None
    """原费用流水号: on a refund row, the row it refunds (empty text = none)."""
    mdtrt_id: Identifier
    """就诊ID: the day-care visit (``dscginfo.mdtrt_id``) or an outpatient visit."""
    psn_no: Identifier | None = None
    med_type: Annotated[str, Field(min_length=1, max_length=6)] | None = None
    fee_ocur_time: PlatformTime
    """费用发生时间: the charge's ``at``."""
    med_list_codg: Identifier
    """医疗目录编码: the charge's ``item_code``."""
    medins_list_codg: Identifier
    """医药机构目录编码: read, not used."""
    det_item_fee_sumamt: Amount
    """明细项目费用总额 (16,2): the amount."""
    cnt: Count
    """数量 (16,4): negative on a refund row; the charge's ``quantity``."""
    pric: Price
    """单价 (16,6): read, not checked against the amount."""
    bilg_dept_codg: Identifier
    """开单科室编码: read, not used."""
    med_chrgitm_type: ChargeType
    """医疗收费项目类别 01-14: the charge category."""


class ChargeSupplement(FrozenModel):
    """What a fee row cannot say, keyed by the ``feedetl_sn`` of an original row."""

    related: Annotated[bool, Field(strict=True)] = False
    """The charge is related to the day-care treatment (for the merge windows)."""
    route: Route | None = None
    """The route of a drug."""
    institution_id: Identifier | None = None
    """Another institution, where the visit was not at ``institution.id``."""


class Supplement(FrozenModel):
    """What the platform records do not carry and the engine needs (docs/integration.md)."""

    institution: Institution
    consent_signed: Annotated[bool, Field(strict=True)]
    extension_reason: ReasonText | None = None
    sessions: tuple[Session, ...] = ()
    conversion: Conversion | None = None
    clinical_pathway: ClinicalPathway | None = None
    agency_method_choice: Identifier | None = None
    charges: dict[Identifier, ChargeSupplement] = Field(
        default_factory=dict, json_schema_extra={"additionalProperties": False}
    )
    """Keyed by ``feedetl_sn`` (an identifier: the schema's ``patternProperties``)."""


_AT_LEAST_ONE: dict[str, Any] = {"minItems": 1}
"""What :func:`_non_empty` checks, in the schema (an after-validator leaves no ``minItems``)."""


class PlatformRecords(FrozenModel):
    """One day-care episode as platform records (see the module docstring)."""

    mdtrtinfo: Mdtrtinfo
    dscginfo: Dscginfo
    diseinfo: Annotated[
        tuple[Diseinfo, ...], AfterValidator(_non_empty), Field(json_schema_extra=_AT_LEAST_ONE)
    ]
    feedetail: Annotated[
        tuple[Feedetail, ...], AfterValidator(_non_empty), Field(json_schema_extra=_AT_LEAST_ONE)
    ]
    supplement: Supplement


# --- reading --------------------------------------------------------------------------------

RecordsInput = PlatformRecords | Mapping[str, Any] | str | bytes


def parse_records(records: RecordsInput) -> PlatformRecords:
    """Validate platform records (a mapping or JSON text; JSON numbers are exact decimals).
    Raises :class:`InvalidPlatformRecords` naming each bad field."""
    if isinstance(records, PlatformRecords):
        return records
    data: Any = records
    if isinstance(records, str | bytes):
        data = _load_json(records)
    if not isinstance(data, Mapping):
        raise InvalidPlatformRecords([FieldProblem("", "platform records must be a JSON object")])
    try:
        return PlatformRecords.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        raise InvalidPlatformRecords([field_problem(e) for e in errors]) from None


def _load_json(text: str | bytes) -> Any:
    try:
        return loads_exact(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidPlatformRecords([FieldProblem("", f"malformed JSON: {exc}")]) from None


# --- to an episode --------------------------------------------------------------------------


def platform_programme(med_type: str, policy: Policy) -> Programme:
    """The programme a ``med_type`` code names under ``policy`` (its ``platform:`` section).
    :class:`PlatformNotConfigured` if the policy has none; :class:`InvalidPlatformRecords`
    for a code it does not list."""
    section = policy.rules.platform
    if section is None:
        raise PlatformNotConfigured(
            f"policy {policy.id!r} ({policy.rules.policy.document}) has no 'platform:' section "
            "in its rule file: no med_type code names its programmes, so platform records "
            "cannot be settled under it"
        )
    programme = section.med_types.get(med_type)
    if programme is None:
        known = ", ".join(f"{code} ({p.value})" for code, p in section.med_types.items())
        raise InvalidPlatformRecords(
            [
                FieldProblem(
                    "mdtrtinfo.med_type",
                    f"{med_type!r} names no programme of policy {policy.id!r} (its codes: {known})",
                )
            ]
        )
    return programme


def records_to_episode(records: RecordsInput, policy: str | os.PathLike[str] | Policy) -> Episode:
    """The :class:`Episode` the platform records describe, under ``policy`` (a bundled id,
    a rule-file path or a :class:`Policy`; the version in force on ``begntime``), whose
    ``platform.med_types`` names the programme. Raises :class:`InvalidPlatformRecords`,
    :class:`PlatformNotConfigured` or the policy errors of :func:`daycare_settle.settle`."""
    parsed = parse_records(records)
    admitted = parsed.mdtrtinfo.begntime
    compiled = resolve_policy(policy, on=admitted.date())
    programme = platform_programme(parsed.mdtrtinfo.med_type, compiled)
    problems: list[FieldProblem] = []
    problems.extend(_patient_problems(parsed))
    diagnoses = _diagnoses(parsed.diseinfo, problems)
    charges = _charges(parsed, problems)
    if problems:
        raise InvalidPlatformRecords(problems)
    supplement = parsed.supplement
    procedure = parsed.dscginfo.oprn_oprt_code or parsed.mdtrtinfo.oprn_oprt_code
    data: dict[str, Any] = {
        "episode_id": parsed.dscginfo.mdtrt_id,
        "programme": programme,
        "admitted_at": admitted,
        "discharged_at": parsed.dscginfo.endtime,
        "institution": supplement.institution,
        "patient": {"id": parsed.mdtrtinfo.psn_no},
        "consent_signed": supplement.consent_signed,
        "diagnoses": diagnoses,
        "procedures": ([{"code": procedure, "system": CodeSystem.ICD_9_CM_3}] if procedure else []),
        "sessions": supplement.sessions,
        "charges": charges,
    }
    for name in ("extension_reason", "conversion", "clinical_pathway", "agency_method_choice"):
        value = getattr(supplement, name)
        if value is not None:
            data[name] = value
    try:
        return Episode.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        found = [problem for error in errors for problem in error_problems(error)]
        raise InvalidPlatformRecords(
            [FieldProblem(f"(episode) {p.path}", p.message) for p in found]
        ) from None


def _patient_problems(records: PlatformRecords) -> Iterable[FieldProblem]:
    patient = records.mdtrtinfo.psn_no
    if records.dscginfo.psn_no is not None and records.dscginfo.psn_no != patient:
        yield FieldProblem("dscginfo.psn_no", f"is not mdtrtinfo.psn_no ({patient!r})")
    for index, row in enumerate(records.feedetail):
        if row.psn_no is not None and row.psn_no != patient:
            yield FieldProblem(
                f"feedetail[{index}].psn_no", f"is not mdtrtinfo.psn_no ({patient!r})"
            )


_SYSTEMS = {"1": CodeSystem.ICD_10, "2": CodeSystem.TCD, "3": CodeSystem.TCD}


def _diagnoses(rows: Sequence[Diseinfo], problems: list[FieldProblem]) -> list[dict[str, Any]]:
    """The principal (``maindiag_flag`` 1) first, then the others by ``diag_srt_no``."""
    principal = [i for i, row in enumerate(rows) if row.maindiag_flag == "1"]
    if len(principal) != 1:
        problems.append(
            FieldProblem(
                "diseinfo",
                f"exactly one diagnosis must have maindiag_flag '1' (found {len(principal)})",
            )
        )
        return []
    seen: dict[int, int] = {}
    for index, row in enumerate(rows):
        first = seen.setdefault(row.diag_srt_no, index)
        if first != index:
            problems.append(
                FieldProblem(
                    f"diseinfo[{index}].diag_srt_no",
                    f"{row.diag_srt_no} repeats diseinfo[{first}].diag_srt_no",
                )
            )
    others = sorted(
        (row for i, row in enumerate(rows) if i != principal[0]), key=lambda r: r.diag_srt_no
    )
    return [
        {"code": row.diag_code, "system": _SYSTEMS[row.diag_type]}
        for row in (rows[principal[0]], *others)
    ]


def _charges(records: PlatformRecords, problems: list[FieldProblem]) -> list[dict[str, Any]]:
    """One charge per original row, refunds netted in; see the module docstring."""
    rows = records.feedetail
    stay = records.dscginfo.mdtrt_id
    med_type = records.mdtrtinfo.med_type
    conversion = records.supplement.conversion
    by_sn: dict[str, int] = {}
    for index, row in enumerate(rows):
        first = by_sn.setdefault(row.feedetl_sn, index)
        if first != index:
            problems.append(
                FieldProblem(
                    f"feedetail[{index}].feedetl_sn",
                    f"{row.feedetl_sn!r} repeats feedetail[{first}].feedetl_sn (a charge id "
                    "must be unique in the record set, across visits too)",
                )
            )
    amounts, counts = _netted(rows, by_sn, stay, med_type, problems)
    extras = records.supplement.charges
    for sn in extras:
        index_of = by_sn.get(sn)
        if index_of is None or rows[index_of].init_feedetl_sn is not None:
            problems.append(
                FieldProblem(
                    f"supplement.charges[{sn!r}]", "names no charge row (feedetl_sn) of feedetail"
                )
            )
    charges: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        if row.init_feedetl_sn is not None or index not in amounts:
            continue
        if row.mdtrt_id != stay:
            setting = Setting.OUTPATIENT
        elif conversion is not None and row.fee_ocur_time >= conversion.at:
            setting = Setting.INPATIENT
        else:
            setting = Setting.DAY_CARE
        charge: dict[str, Any] = {
            "id": row.feedetl_sn,
            "at": row.fee_ocur_time,
            "setting": setting,
            "category": _CHARGE_TYPES[row.med_chrgitm_type],
            "item_code": row.med_list_codg,
            "amount": amounts[index],
            "quantity": counts[index],
        }
        extra = extras.get(row.feedetl_sn)
        if extra is not None:
            charge.update(extra.model_dump(exclude_unset=True))
        charges.append(charge)
    return charges


def _netted(
    rows: Sequence[Feedetail],
    by_sn: Mapping[str, int],
    stay: str,
    med_type: str,
    problems: list[FieldProblem],
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """The net amount and count of each original row (by position), refunds netted in."""
    amounts: dict[int, Decimal] = {}
    counts: dict[int, Decimal] = {}
    for index, row in enumerate(rows):
        where = f"feedetail[{index}]"
        if row.mdtrt_id == stay and row.med_type is not None and row.med_type != med_type:
            problems.append(
                FieldProblem(f"{where}.med_type", f"is not mdtrtinfo.med_type ({med_type!r})")
            )
        if row.init_feedetl_sn is None:
            if row.cnt < 0:
                problems.append(
                    FieldProblem(
                        f"{where}.cnt",
                        "is negative (a refund) but init_feedetl_sn names no original row",
                    )
                )
            elif row.det_item_fee_sumamt < 0:
                problems.append(
                    FieldProblem(f"{where}.det_item_fee_sumamt", "is negative on a charge row")
                )
            else:
                amounts.setdefault(index, row.det_item_fee_sumamt)
                counts.setdefault(index, row.cnt)
            continue
        problems.extend(_refund_problems(rows, index, by_sn))
        original = by_sn.get(row.init_feedetl_sn)
        if any(p.path.startswith(f"{where}.") for p in problems) or original is None:
            continue
        amounts[original] = amounts.get(original, rows[original].det_item_fee_sumamt) + (
            row.det_item_fee_sumamt
        )
        counts[original] = counts.get(original, rows[original].cnt) + row.cnt
        if amounts[original] < 0 or counts[original] < 0:
            problems.append(
                FieldProblem(
                    f"{where}.init_feedetl_sn",
                    f"refunds more than feedetail[{original}] ({rows[original].feedetl_sn!r}) "
                    f"charged: {rows[original].det_item_fee_sumamt} yuan, cnt "
                    f"{rows[original].cnt}; the refunds so far leave {amounts[original]} "
                    f"yuan, cnt {counts[original]}",
                )
            )
    return amounts, counts


def _refund_problems(
    rows: Sequence[Feedetail], index: int, by_sn: Mapping[str, int]
) -> Iterable[FieldProblem]:
    row = rows[index]
    where = f"feedetail[{index}]"
    if row.cnt >= 0:
        yield FieldProblem(
            f"{where}.cnt",
            "must be negative on a refund row (init_feedetl_sn is given only on a refund)",
        )
        return
    if row.det_item_fee_sumamt > 0:
        yield FieldProblem(f"{where}.det_item_fee_sumamt", "must not be positive on a refund row")
    original = by_sn.get(row.init_feedetl_sn or "")
    if original is None:
        yield FieldProblem(
            f"{where}.init_feedetl_sn",
            f"{row.init_feedetl_sn!r} names no row of feedetail (a refund of an unknown charge)",
        )
        return
    source = rows[original]
    if source.init_feedetl_sn is not None:
        yield FieldProblem(
            f"{where}.init_feedetl_sn",
            f"{row.init_feedetl_sn!r} is itself a refund row (a refund names the original charge)",
        )
        return
    for name in ("mdtrt_id", "med_list_codg", "med_chrgitm_type"):
        if getattr(row, name) != getattr(source, name):
            yield FieldProblem(
                f"{where}.{name}",
                f"is not the refunded row's ({getattr(source, name)!r}, feedetail[{original}])",
            )

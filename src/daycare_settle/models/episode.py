"""The episode a hospital information system hands in: one day-care stay and its charges.

Field names follow the issue contract. Checks made here are those that need no policy:
times in order, ids unique, sessions not overlapping, a conversion inside the stay, the
charges summing to no more than the money ceiling.

What is accepted (``docs/input.md`` has the full list):

- identifiers (``episode_id``, ``patient.id``, ``institution.id``, charge ``id`` and
  ``institution_id``, ``conversion.ward``, ``departments``, ``filed_diseases``,
  ``agency_method_choice``, diagnosis and procedure codes): 1-200 printable characters, no
  control (C0, DEL, C1), format (bidi such as U+202E, zero-width such as U+200B, U+FEFF),
  line-break, tab or non-ASCII space character, and no space at either end; charge ids are
  compared after Unicode NFKC normalisation, so ``"a"`` and a full-width ``"ａ"`` repeat;
- ``extension_reason``: text with at least one visible character, else it is refused (a
  blank or invisible reason does not unlock an extended stay);
- amounts and quantities: integers, exact decimals (JSON numbers), or strings of ASCII
  digits with an optional decimal point;
- times: ISO 8601 ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` with an optional ``Z`` / ``±HH:MM``
  (naive is Asia/Shanghai), in the years 1900-2999.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, localcontext
from itertools import pairwise
from operator import attrgetter
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, Field, model_validator

from ..errors import FieldProblem, field_problem
from .common import (
    _CATEGORIES,
    MAX_AMOUNT,
    MONEY_CONTEXT,
    Category,
    CategoryField,
    CodeSystem,
    CodeText,
    FrozenModel,
    Identifier,
    LocalDateTime,
    Money,
    Programme,
    Quantity,
    ReasonText,
    Route,
    SessionKind,
    Setting,
    _check_reason,
    _read_time,
    _to_money,
    _to_quantity,
    constructed,
    identity_key,
    set_dict,
    set_extra,
    set_fields_set,
    set_private,
    share_field_keys,
)


class InconsistentEpisode(ValueError):
    """Checks across fields failed; each problem names its own field."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


def error_problems(error: Any) -> tuple[FieldProblem, ...]:
    """The problems of one validation error of an episode (pydantic's error dict): the
    cross-field checks' own, each naming its field, or the error's field and message."""
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, InconsistentEpisode):
        return cause.problems
    return (field_problem(error),)


T = TypeVar("T")
_M = TypeVar("_M", bound=FrozenModel)


def _non_empty(items: tuple[T, ...]) -> tuple[T, ...]:
    # An after-validator rather than ``min_length``: it runs only when every item is
    # valid, so one bad charge is reported once, not also as "too few charges".
    if not items:
        raise ValueError("must list at least one item")
    return items


class Institution(FrozenModel):
    """The designated hospital (定点医疗机构)."""

    id: Identifier
    tier: Annotated[int, Field(ge=1, le=3, strict=True)]
    filed_programmes: tuple[Programme, ...] = ()
    departments: tuple[Identifier, ...] = ()
    filed_diseases: tuple[Identifier, ...] | None = None
    """Codes of the diseases the hospital filed for day care (备案病种), where recorded."""


class Patient(FrozenModel):
    id: Identifier


class Code(FrozenModel):
    """A diagnosis or procedure code; the first diagnosis of an episode is the principal."""

    code: CodeText
    system: CodeSystem


class Session(FrozenModel):
    """One treatment session inside a stay that spans days."""

    start: LocalDateTime
    end: LocalDateTime
    kind: SessionKind
    route: Route | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Session:
        if self.end < self.start:
            raise ValueError("session end is before its start")
        return self


class Conversion(FrozenModel):
    """The move from day care to an ordinary ward (转普通住院)."""

    at: LocalDateTime
    ward: Identifier


class ClinicalPathway(FrozenModel):
    """Optional clinical-pathway dates: first visit for this disease, end of the pathway."""

    first_visit_at: LocalDateTime | None = None
    ended_at: LocalDateTime | None = None


class Charge(FrozenModel):
    """One itemised charge (费用明细).

    ``setting`` says where the hospital BOOKED the charge — an outpatient visit
    (``outpatient``), the day-care stay (``day_care``), the ordinary ward after a conversion
    (``inpatient``), or a follow-up it knows belongs to this stay (``post_discharge``). It
    does not say which part of the episode the charge belongs to: the engine decides that by
    ``at`` against admission, discharge, conversion, sessions and the rule file's windows (an
    outpatient charge dated after discharge is a post-discharge candidate; one dated inside
    the stay is a charge of the stay's time). The contract, boundaries included, is in
    ``docs/settings.md``.
    """

    id: Identifier
    at: LocalDateTime
    setting: Setting
    institution_id: Identifier | None = None
    category: CategoryField
    item_code: Identifier | None = None
    """The item's code in the medical-insurance catalogue (医保目录编码, the platform's
    ``med_list_codg``), where known."""
    amount: Money
    quantity: Quantity | None = None
    related: Annotated[bool, Field(strict=True)] = False
    route: Route | None = None

    @model_validator(mode="after")
    def _share_fields_set(self) -> Charge:
        # The set of fields given (pydantic's, used by ``exclude_unset``) takes ~700 bytes
        # per charge, more than the rest of a charge; charges repeat a few such sets, so each
        # distinct one is kept once and shared (a frozen model never changes it, and
        # ``model_copy`` copies it). It makes a 100 000-charge episode ~70 MB lighter.
        given = self.__pydantic_fields_set__
        shared = _shared_fields_set(given)
        if shared is not given:
            object.__setattr__(self, "__pydantic_fields_set__", shared)
        return self


share_field_keys(Charge)

_FIELDS_SETS: dict[frozenset[str], set[str]] = {}
"""The distinct sets of fields given for a charge, one shared object each."""
_LAST_FIELDS_SET: list[set[str]] = [set()]
"""The shared set the last charge used (one of :data:`_FIELDS_SETS`' values)."""


def _shared_fields_set(given: set[str]) -> set[str]:
    """The one shared set equal to ``given`` (``given`` itself the first time). Consecutive
    charges mostly give the same fields: the last shared set is compared first (a set
    comparison), before the lookup by contents (which builds a key)."""
    last = _LAST_FIELDS_SET[0]
    if given == last:
        return last
    shared = _FIELDS_SETS.get(frozenset(given))
    if shared is None:
        if len(_FIELDS_SETS) >= 512:
            _FIELDS_SETS.clear()
        shared = _FIELDS_SETS[frozenset(given)] = given
    _LAST_FIELDS_SET[0] = shared
    return shared


# --- the charges' fast path -----------------------------------------------------------------
#
# Validating a charge through the model runs five Python callbacks (identifier, time,
# category, money, the shared fields-set), each a crossing between pydantic-core and Python.
# The common charge — a dict of exactly-typed, already-valid values — is read here in one
# Python pass by the same readings, and built as the model would build it (the same
# ``__dict__`` in field order, the same shared fields-set). Anything else, or anything the
# readings refuse, is left to the model: every refusal, its message and its path come from
# the usual validation, never from here.

_CHARGE_FIELDS = (
    "id",
    "at",
    "setting",
    "institution_id",
    "category",
    "item_code",
    "amount",
    "quantity",
    "related",
    "route",
)
_CHARGE_KEYS = frozenset(_CHARGE_FIELDS)
_CHARGE_REQUIRED = frozenset(("id", "at", "setting", "category", "amount"))
_SETTINGS: dict[object, Setting] = {**{s.value: s for s in Setting}, **{s: s for s in Setting}}
_ROUTES: dict[object, Route] = {**{r.value: r for r in Route}, **{r: r for r in Route}}
_CATEGORY_OF: dict[object, Category] = {**{c: c for c in Category}, **dict(_CATEGORIES.items())}
# Looked up only for a value that is exactly a ``str`` or the field's own enumeration: a
# value of another ``str`` subclass (an enumeration of the caller's) is left to the model's
# reading. Amounts and quantities: exactly a ``str``, a ``Decimal`` or an ``int``.


def _plain_identifier(value: object) -> bool:
    """An exact ``str`` the :data:`Identifier` reading accepts as it is."""
    return (
        type(value) is str
        and 0 < len(value) <= 200
        and value.isprintable()
        and value[0] != " "
        and value[-1] != " "
    )


def _fast_charge(data: object, compact: bool = False) -> Charge | None:
    """``data`` as the model would validate it, or None when the model must decide."""
    charges = _read_charges((data,), compact)
    return None if charges is None else charges[0]


_new_instance = object.__new__
_set = object.__setattr__
_FEN_TEXT = re.compile(r"[0-9]{1,12}\.[0-9]{2}").fullmatch
"""``"1234.50"``: what most systems send, read without the general reading (at most 12
digits, so never above the ceiling)."""


def _read_charges(  # noqa: PLR0912, PLR0915 - one inline loop: a call per charge costs
    items: Sequence[object], compact: bool
) -> list[Charge] | None:
    """Every charge of ``items`` as the model would validate it, or None as soon as one must
    be left to the model. One loop with its lookups held in locals: most of a charge's cost
    here is Python bytecode, and a call, a global or an attribute read per field adds up."""
    charges: list[Charge] = []
    append = charges.append
    given: set[str] = _LAST_FIELDS_SET[0]  # the fields a valid charge gave: valid keys
    settings = _SETTINGS
    categories = _CATEGORY_OF
    read_time = _read_time
    fen_text = _FEN_TEXT
    plain = _plain_identifier
    # the model slots' setters as locals: a global read per field and charge adds up
    new, set_fields, put_extra, put_private, put_dict = (
        _new_instance,
        set_fields_set,
        set_extra,
        set_private,
        set_dict,
    )
    for data in items:
        if type(data) is not dict:
            return None
        fields: set[str] | None = given
        if not given or data.keys() != given:  # compared without building a set (common case)
            if not _CHARGE_REQUIRED <= data.keys() <= _CHARGE_KEYS:
                return None
            fields = None
        try:  # a value of an unhashable type (a list, a dict) fails a lookup: the model decides
            charge_id = data["id"]
            at = data["at"]
            setting = data["setting"]
            kind = type(setting)
            setting = settings.get(setting) if kind is str or kind is Setting else None
            category = data["category"]
            kind = type(category)
            category = categories.get(category) if kind is str or kind is Category else None
            amount = data["amount"]
            get = data.get
            institution_id = get("institution_id")
            item_code = get("item_code")
            quantity = get("quantity")
            related = get("related", False)
            route = get("route")
            if (
                setting is None
                or category is None
                or type(at) is not str
                or type(related) is not bool
                or type(charge_id) is not str
                or not 0 < len(charge_id) <= 200
                or not charge_id.isprintable()
                or charge_id[0] == " "
                or charge_id[-1] == " "
                or (institution_id is not None and not plain(institution_id))
                or (item_code is not None and not plain(item_code))
            ):
                return None
            if route is not None:
                kind = type(route)
                route = _ROUTES.get(route) if kind is str or kind is Route else None
                if route is None:
                    return None
            moment = read_time(at)
            kind = type(amount)
            if kind is str and fen_text(amount):
                money = Decimal(amount)
            elif kind is str or kind is Decimal or kind is int:
                money = _to_money(amount)
            else:
                return None
            if quantity is not None:
                kind = type(quantity)
                if not (kind is str or kind is Decimal or kind is int):
                    return None
                quantity = _to_quantity(quantity)
        except (ValueError, ArithmeticError, TypeError):
            return None
        if fields is None:
            fields = given = _shared_fields_set(set(data))
        charge = new(Charge)
        set_fields(charge, fields)
        put_extra(charge, None)
        put_private(charge, None)
        if compact:  # one attribute at a time: a compact __dict__ that shares its keys
            _set(charge, "id", charge_id)
            _set(charge, "at", moment)
            _set(charge, "setting", setting)
            _set(charge, "institution_id", institution_id)
            _set(charge, "category", category)
            _set(charge, "item_code", item_code)
            _set(charge, "amount", money)
            _set(charge, "quantity", quantity)
            _set(charge, "related", related)
            _set(charge, "route", route)
        else:
            put_dict(
                charge,
                {
                    "id": charge_id,
                    "at": moment,
                    "setting": setting,
                    "institution_id": institution_id,
                    "category": category,
                    "item_code": item_code,
                    "amount": money,
                    "quantity": quantity,
                    "related": related,
                    "route": route,
                },
            )
        append(charge)
    return charges


COMPACT_FROM = 1024
"""From this many charges, each charge read by the fast path is stored compactly: its
attributes set one at a time, so that CPython keeps a key-sharing ``__dict__`` (about
200 bytes less per charge, at the cost of ten attribute stores instead of one dict)."""


def _fast_charges(data: Any) -> Any:
    """The episode's input with its charges already built when every one takes the fast
    path; the input itself (not a copy, never changed) otherwise."""
    if type(data) is not dict:
        return data
    items = data.get("charges")
    if type(items) is not list or not items:
        return data
    charges = _read_charges(items, len(items) >= COMPACT_FROM)
    if charges is None:
        return data
    return {**data, "charges": tuple(charges)}


class Episode(FrozenModel):
    """A day-care episode to settle."""

    episode_id: Identifier
    programme: Programme
    admitted_at: LocalDateTime
    discharged_at: LocalDateTime
    institution: Institution
    patient: Patient
    consent_signed: Annotated[bool, Field(strict=True)]
    extension_reason: ReasonText | None = None
    """Why the stay ran past the ordinary limit; must carry visible text."""
    diagnoses: Annotated[tuple[Code, ...], AfterValidator(_non_empty)]
    procedures: tuple[Code, ...] = ()
    sessions: tuple[Session, ...] = ()
    conversion: Conversion | None = None
    clinical_pathway: ClinicalPathway | None = None
    agency_method_choice: Identifier | None = None
    """A hospital's choice among agency methods where a policy allows one (e.g. a quota)."""
    charges: Annotated[tuple[Charge, ...], AfterValidator(_non_empty)]

    @model_validator(mode="before")
    @classmethod
    def _charges_fast(cls, data: Any) -> Any:
        return _fast_charges(data)

    @model_validator(mode="after")
    def _consistent(self) -> Episode:
        _check_consistent(self)
        return self

    @property
    def principal_diagnosis(self) -> Code:
        return self.diagnoses[0]

    def charge_institution(self, charge: Charge) -> str:
        """The institution a charge arose at (the episode's, unless the charge names one)."""
        return charge.institution_id or self.institution.id


# --- the episode's fast path ----------------------------------------------------------------
#
# The shell of the common episode (a dict of exactly-typed valid values, no sessions,
# conversion or clinical pathway) read the same way as its charges: by the model's own
# readings, each model built as validation builds it (the same ``__dict__`` in field order,
# defaults included; the fields given as its fields-set), then the model's cross-field
# checks. Anything else, and any refusal, is left to the model.

_EPISODE_KEYS = frozenset(Episode.model_fields)
_EPISODE_REQUIRED = frozenset(n for n, f in Episode.model_fields.items() if f.is_required())
_INSTITUTION_KEYS = frozenset(Institution.model_fields)
_INSTITUTION_REQUIRED = frozenset(("id", "tier"))
_CODE_KEYS = frozenset(("code", "system"))
_PATIENT_KEYS = frozenset(("id",))
_PROGRAMMES: dict[object, Programme] = {
    **{p.value: p for p in Programme},
    **{p: p for p in Programme},
}
_CODE_SYSTEMS: dict[object, CodeSystem] = {
    **{s.value: s for s in CodeSystem},
    **{s: s for s in CodeSystem},
}
_EMPTY: tuple[()] = ()


def _programmes(items: Any) -> tuple[Programme, ...] | None:
    kind = type(items)
    if kind is not list and kind is not tuple:
        return None
    found = []
    for item in items:
        kind = type(item)
        programme = _PROGRAMMES.get(item) if kind is str or kind is Programme else None
        if programme is None:
            return None
        found.append(programme)
    return tuple(found)


def _identifiers(items: Any) -> tuple[str, ...] | None:
    kind = type(items)
    if kind is not list and kind is not tuple:
        return None
    for item in items:
        if not _plain_identifier(item):
            return None
    return tuple(items)


def _codes(items: Any) -> tuple[Code, ...] | None:
    """Codes that are plain ASCII (1-40 printable characters, no space at all): what the
    :data:`CodeText` pattern and reading accept as they are."""
    kind = type(items)
    if kind is not list and kind is not tuple:
        return None
    codes = []
    for item in items:
        if type(item) is not dict or item.keys() != _CODE_KEYS:
            return None
        code = item["code"]
        system = item["system"]
        kind = type(system)
        system = _CODE_SYSTEMS.get(system) if kind is str or kind is CodeSystem else None
        if (
            system is None
            or type(code) is not str
            or not 0 < len(code) <= 40
            or not code.isascii()
            or not code.isprintable()
            or " " in code
        ):
            return None
        codes.append(constructed(Code, {"code": code, "system": system}, {"code", "system"}))
    return tuple(codes)


def _institution(data: object) -> Institution | None:
    if type(data) is not dict or not _INSTITUTION_REQUIRED <= data.keys() <= _INSTITUTION_KEYS:
        return None
    tier = data["tier"]
    institution_id = data["id"]
    programmes = _programmes(data.get("filed_programmes", _EMPTY))
    departments = _identifiers(data.get("departments", _EMPTY))
    diseases = data.get("filed_diseases")
    if diseases is not None:
        diseases = _identifiers(diseases)
        if diseases is None:
            return None
    if (
        type(tier) is not int
        or not 1 <= tier <= 3
        or not _plain_identifier(institution_id)
        or programmes is None
        or departments is None
    ):
        return None
    return constructed(
        Institution,
        {
            "id": institution_id,
            "tier": tier,
            "filed_programmes": programmes,
            "departments": departments,
            "filed_diseases": diseases,
        },
        set(data),
    )


def fast_episode(data: object) -> Episode | None:
    """``data`` as :meth:`Episode.model_validate` would validate it, or None when the model
    must decide (every refusal, its message and its path come from the model)."""
    if type(data) is not dict or not _EPISODE_REQUIRED <= data.keys() <= _EPISODE_KEYS:
        return None
    try:
        episode_id = data["episode_id"]
        kind = type(programme := data["programme"])
        programme = _PROGRAMMES.get(programme) if kind is str or kind is Programme else None
        admitted = data["admitted_at"]
        discharged = data["discharged_at"]
        patient = data["patient"]
        consent = data["consent_signed"]
        reason = data.get("extension_reason")
        choice = data.get("agency_method_choice")
        sessions = data.get("sessions", _EMPTY)
        if (
            programme is None
            or not _plain_identifier(episode_id)
            or type(admitted) is not str
            or type(discharged) is not str
            or type(patient) is not dict
            or patient.keys() != _PATIENT_KEYS
            or not _plain_identifier(patient["id"])
            or type(consent) is not bool
            or (choice is not None and not _plain_identifier(choice))
            or (type(sessions) is not list and type(sessions) is not tuple)
            or sessions
            or data.get("conversion") is not None
            or data.get("clinical_pathway") is not None
        ):
            return None
        if reason is not None and (
            type(reason) is not str
            or not 0 < len(reason) <= 200
            or not reason.isascii()
            or _check_reason(reason) is not reason
        ):
            return None
        institution = _institution(data["institution"])
        diagnoses = _codes(data["diagnoses"])
        procedures = _codes(data.get("procedures", _EMPTY))
        items = data["charges"]
        if institution is None or not diagnoses or procedures is None or type(items) is not list:
            return None
        at_admission = _read_time(admitted)
        at_discharge = _read_time(discharged)
        charges = _read_charges(items, len(items) >= COMPACT_FROM) if items else None
        if charges is None:
            return None
    except (ValueError, ArithmeticError, TypeError):
        return None
    episode = constructed(
        Episode,
        {
            "episode_id": episode_id,
            "programme": programme,
            "admitted_at": at_admission,
            "discharged_at": at_discharge,
            "institution": institution,
            "patient": constructed(Patient, {"id": patient["id"]}, {"id"}),
            "consent_signed": consent,
            "extension_reason": reason,
            "diagnoses": diagnoses,
            "procedures": procedures,
            "sessions": _EMPTY,
            "conversion": None,
            "clinical_pathway": None,
            "agency_method_choice": choice,
            "charges": tuple(charges),
        },
        set(data),
    )
    try:
        _check_consistent(episode)
    except InconsistentEpisode:
        return None
    return episode


def _check_consistent(episode: Episode) -> None:
    """The checks across fields, one pass: raises :class:`InconsistentEpisode` naming every
    problem with its own path."""
    problems: list[FieldProblem] = []
    if episode.discharged_at < episode.admitted_at:
        problems.append(FieldProblem("discharged_at", "is before admitted_at"))
    charges = episode.charges
    ids = list(map(_ID, charges))  # the common case read without a Python step per charge
    if len(set(ids)) != len(ids) or not "".join(ids).isascii():
        problems.extend(_repeated_ids(charges))
    own = episode.institution.id
    others = set(map(_INSTITUTION_ID, charges))
    others.discard(None)
    others.discard(own)
    if others:
        problems.extend(_lookalikes(charges, own))
    with localcontext(MONEY_CONTEXT):  # 38 digits: the sum is exact
        total = sum(map(_AMOUNT, charges), _ZERO)
    if total > MAX_AMOUNT:
        problems.append(_over_the_ceiling(len(charges), total))
    if episode.sessions:
        problems.extend(_session_problems(episode))
    if episode.conversion is not None and not (
        episode.admitted_at <= episode.conversion.at <= episode.discharged_at
    ):
        problems.append(
            FieldProblem("conversion.at", "lies outside the stay (admitted_at..discharged_at)")
        )
    pathway = episode.clinical_pathway
    if (
        pathway is not None
        and pathway.first_visit_at is not None
        and pathway.first_visit_at > episode.admitted_at
    ):
        problems.append(FieldProblem("clinical_pathway.first_visit_at", "is after admitted_at"))
    if (
        pathway is not None
        and pathway.ended_at is not None
        and (pathway.ended_at < episode.admitted_at)
    ):
        problems.append(FieldProblem("clinical_pathway.ended_at", "is before admitted_at"))
    if episode.conversion is None and _INPATIENT in map(_SETTING, charges):
        problems.extend(
            FieldProblem(f"charges[{i}].setting", "'inpatient' needs a conversion on the episode")
            for i, charge in enumerate(charges)
            if charge.setting is _INPATIENT
        )
    if problems:
        raise InconsistentEpisode(problems)


def _repeated_ids(charges: Sequence[Charge]) -> list[FieldProblem]:
    """Charge ids given twice, compared in NFKC form: ``"a"`` and a full-width ``"ａ"`` are
    the same charge id."""
    seen: dict[str, int] = {}
    duplicates: list[FieldProblem] = []
    for index, charge in enumerate(charges):
        charge_id = charge.id
        key = charge_id if charge_id.isascii() else identity_key(charge_id)
        first = seen.setdefault(key, index)
        if first != index:
            earlier = charges[first].id
            message = f"{charge_id!r} repeats charges[{first}].id"
            if earlier != charge_id:
                message += f" ({earlier!r}) once Unicode-normalised (NFKC)"
            duplicates.append(FieldProblem(f"charges[{index}].id", message))
    return duplicates


def _lookalikes(charges: Sequence[Charge], own: str) -> list[FieldProblem]:
    """A charge's ``institution_id`` that is the episode's institution in another Unicode form
    would silently count as another hospital: refused."""
    own_key = identity_key(own)
    lookalikes: list[FieldProblem] = []
    for index, charge in enumerate(charges):
        other = charge.institution_id
        if other is not None and other != own and identity_key(other) == own_key:
            lookalikes.append(
                FieldProblem(
                    f"charges[{index}].institution_id",
                    f"{other!r} differs from institution.id ({own!r}) only in its "
                    "Unicode form (NFKC); write it exactly as institution.id",
                )
            )
    return lookalikes


_ID = attrgetter("id")
_INSTITUTION_ID = attrgetter("institution_id")
_AMOUNT = attrgetter("amount")
_SETTING = attrgetter("setting")
_INPATIENT = Setting.INPATIENT
_ZERO = Decimal(0)


def _over_the_ceiling(count: int, total: Decimal) -> FieldProblem:
    """Every total of the settlement is money too: the charges may not sum past the ceiling."""
    return FieldProblem(
        "charges",
        f"the {count} charges sum to {total}, above the ceiling {MAX_AMOUNT} "
        "for any amount or total",
    )


def _session_problems(episode: Episode) -> list[FieldProblem]:
    problems = []
    ordered = sorted(enumerate(episode.sessions), key=lambda pair: pair[1].start)
    for (i, earlier), (j, later) in pairwise(ordered):
        if later.start < earlier.end:
            problems.append(FieldProblem(f"sessions[{j}]", f"overlaps sessions[{i}]"))
    for index, session in enumerate(episode.sessions):
        if session.start < episode.admitted_at or session.end > episode.discharged_at:
            problems.append(FieldProblem(f"sessions[{index}]", "lies outside the stay"))
    return problems

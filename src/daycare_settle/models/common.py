"""Shared value types: money, time, identifiers, and the vocabularies of the national
settlement list.

Money is :class:`~decimal.Decimal` with at most two decimal places (the fen), finite and
non-negative; floats are refused because they cannot carry a fen exactly. Times are
timezone-aware: a naive ISO 8601 value is read as Asia/Shanghai (UTC+08:00), the zone in
which every policy here counts its days. Identifiers are printable text with no
surrounding whitespace. ``docs/input.md`` lists what is accepted and what is refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Sequence
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""The default zone for naive input and the zone in which calendar days are counted.

Asia/Shanghai has kept a fixed UTC+08:00 (China Standard Time) since 1991, before any policy
here; a fixed offset reads every time the same way in every process, with no zone database.
"""

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")
QUANTITY_PLACES = 6
"""A quantity carries at most six decimal places."""

MONEY_CONTEXT = Context(
    prec=38,
    rounding=ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    capitals=1,
    clamp=0,
    flags=[],
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""The decimal context every validation and settlement runs in, whatever context the
caller's thread has set: Python's default context made explicit (half-even where the engine
rounds without naming a rule), with 38 digits so that no sum of amounts is ever rounded.
The entry points run under ``decimal.localcontext(MONEY_CONTEXT)``; the validators here do no
decimal arithmetic at all, so an :class:`Episode` validated directly does not depend on any
context either."""


class FrozenModel(BaseModel):
    """Base for every model: unknown fields rejected, instances immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_M = TypeVar("_M", bound=FrozenModel)
_FIELDS_SET: dict[type[FrozenModel], set[str]] = {}


# The slots every pydantic model has, set through their descriptors: what
# ``object.__setattr__`` does for them, without looking the name up each time.
set_fields_set = vars(BaseModel)["__pydantic_fields_set__"].__set__
set_extra = vars(BaseModel)["__pydantic_extra__"].__set__
set_private = vars(BaseModel)["__pydantic_private__"].__set__
set_dict = vars(BaseModel)["__dict__"].__set__


def constructed(cls: type[_M], values: dict[str, Any], fields_set: set[str]) -> _M:
    """An instance of ``cls`` as validation makes it, without validating: ``values`` for
    every field in field order (defaults included), ``fields_set`` the fields counted as
    given (what ``exclude_unset`` reads; a shared set is fine, since a frozen model never
    changes it and ``model_copy`` copies it). Only for values exactly of their field's
    type: the callers check what they cannot vouch for."""
    model = object.__new__(cls)
    set_fields_set(model, fields_set)
    set_extra(model, None)
    set_private(model, None)
    set_dict(model, values)
    return model


def trusted(cls: type[_M], values: dict[str, Any]) -> _M:
    """An instance of ``cls`` from values the engine has validated already, given for
    every field in field order: what ``model_construct`` makes (the same ``__dict__``, every
    field counted as set), without its per-field bookkeeping. The set of fields set is one
    object per class, shared.

    Only for values of exactly the field types; the callers check what they cannot vouch
    for and validate the usual way otherwise."""
    fields = _FIELDS_SET.get(cls)
    if fields is None:
        fields = _FIELDS_SET.setdefault(cls, set(cls.model_fields))
    return constructed(cls, values, fields)


def trusted_compact(cls: type[_M], values: Sequence[Any]) -> _M:
    """:func:`trusted` for records made by the hundred thousand (a settlement's lines): the
    values, one per field in field order, are set one attribute at a time instead of handing
    over a ready dict. CPython then keeps the instance's ``__dict__`` as a *split* dict that
    shares its keys with every other instance of the class (about 120 bytes for six fields
    instead of 272): the same mapping, the same order, the same JSON."""
    fields = _FIELDS_SET.get(cls)
    if fields is None:
        fields = _FIELDS_SET.setdefault(cls, set(cls.model_fields))
    model = cls.__new__(cls)
    _set = object.__setattr__
    _set(model, "__pydantic_fields_set__", fields)
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    for name, value in zip(_field_names(cls), values, strict=True):
        _set(model, name, value)
    return model


@functools.cache
def _field_names(cls: type[FrozenModel]) -> tuple[str, ...]:
    return tuple(cls.model_fields)


def share_field_keys(cls: type[FrozenModel]) -> None:
    """Let the instances of ``cls`` built one attribute at a time keep a compact ``__dict__``
    whatever ran before: called once when the class is made. CPython shares one table of
    attribute names per class and adds a name to it the first time an instance is given
    it; once attribute reads of the class have been specialised by the interpreter, no name
    is added any more and an instance given a missing one gets a full dict of its own (larger
    than a plain one). One throw-away instance given every field here, in field order, fills
    that table before anything reads it."""
    model = cls.__new__(cls)
    for name in cls.model_fields:
        object.__setattr__(model, name, None)


# --- numbers --------------------------------------------------------------------------------

_PLAIN_MONEY = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
"""The common case, read without further checks: at most 12 digits, at most 2 decimals."""
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
"""The only spelling accepted in a string: ASCII digits with an optional decimal point."""
_SPECIAL = re.compile(r"[+-]?(?:nan|snan|inf|infinity)", re.IGNORECASE)
_SIGNED = re.compile(r"-[0-9]+(?:\.[0-9]+)?")


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _number(value: Any, what: str) -> Decimal:
    """Read an amount or a quantity: an int, a Decimal (JSON numbers are read as exact
    decimals), or a string of ASCII digits with an optional decimal point. Nothing else: not
    a float, a boolean, a list, an exponent, a sign, whitespace, ``_`` or non-ASCII digits."""
    if isinstance(value, bool | float):
        raise ValueError(
            f"{what} must be a decimal string, an integer or a Decimal, not {_kind(value)} "
            "(floats cannot hold a fen exactly; quote the amount)"
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{what} must be a finite amount (NaN and Infinity are refused)")
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"{what} must be a decimal string, an integer or a Decimal, not {_kind(value)}"
        )
    if _PLAIN_DECIMAL.fullmatch(value):
        return Decimal(value)  # exact whatever the context: a construction, not arithmetic
    if _SPECIAL.fullmatch(value):
        raise ValueError(f"{what} must be a finite amount (NaN and Infinity are refused)")
    if _SIGNED.fullmatch(value) and Decimal(value) != 0:
        raise ValueError(f"{what} must not be negative")
    shown = ascii(value) if len(value) <= 40 else ascii(value[:40]) + "..."
    noun = "amount" if what == "money" else what
    raise ValueError(
        f"{shown} is not a decimal {noun}: write ASCII digits with an optional decimal point, "
        "like '1234.50' (no sign, exponent, spaces, '_' or other digits)"
    )


def _to_money(value: Any) -> Decimal:
    if type(value) is Decimal:
        if value.as_tuple().exponent == -2 and not value.is_signed() and value <= MAX_AMOUNT:
            return value  # already money: the engine re-reads amounts it has validated
    elif type(value) is str and _PLAIN_MONEY.fullmatch(value):
        point = value.find(".")  # the common case: pad to the fen, an exact construction
        return Decimal(value + ".00" if point < 0 else value + "0" * (3 - len(value) + point))
    number = _number(value, "money")
    if number < 0:
        raise ValueError("money must not be negative")
    if number > MAX_AMOUNT:
        raise ValueError(f"money must not exceed {MAX_AMOUNT}")
    fen = _rescale(number, 2)
    if fen is None:
        raise ValueError("money has more than two decimal places (the fen is the smallest unit)")
    return fen


def _rescale(number: Decimal, places: int) -> Decimal | None:
    """``number`` (finite, not above the ceiling) written with exactly ``places`` decimals,
    or None if that would drop a non-zero digit. Built from its digits, not by arithmetic,
    so no decimal context is read or changed; a zero is always ``0.00…`` and never negative,
    so ``-0`` and ``0E-999999`` are written as a few zeros, never a million."""
    if not number:
        return Decimal((0, (0,), -places))
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    shift = exponent + places
    if shift >= 0:  # at most 12 integer digits: the padding is short
        return Decimal((0, digits + (0,) * shift, -places))
    if any(digits[shift:]):
        return None
    return Decimal((0, digits[:shift], -places))


def _to_quantity(value: Any) -> Decimal:
    number = _number(value, "quantity")
    if number < 0:
        raise ValueError("quantity must not be negative")
    if number > MAX_AMOUNT:
        raise ValueError(f"quantity must not exceed {MAX_AMOUNT}")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -QUANTITY_PLACES <= exponent <= 0:
        return number.copy_abs()  # as written; copy_abs: "-0" is 0
    # bounded text: 0E-999999 or 1E+11 would otherwise be written out digit by digit
    rescaled = _rescale(number, QUANTITY_PLACES if exponent < 0 else 0)
    if rescaled is None:
        raise ValueError(f"quantity has more than {QUANTITY_PLACES} decimal places")
    return rescaled


def _money_to_str(value: Decimal) -> str:
    return format(value, "f")


# JSON Schema of the accepted JSON (documentation only: the validators above decide). A string
# is the digits the validators read; a non-zero digit past the fen (or the sixth place of a
# quantity) is refused, trailing zeros are not; at most 12 integer digits (MAX_AMOUNT).
_MONEY_TEXT = r"^0*[0-9]{1,12}(?:\.[0-9]{1,2}0*)?$"
_QUANTITY_TEXT = r"^0*[0-9]{1,12}(?:\.[0-9]{1,6}0*)?$"
_MONEY_IN = WithJsonSchema(
    {
        "anyOf": [
            {"type": "string", "pattern": _MONEY_TEXT},
            {"type": "number", "minimum": 0, "maximum": float(MAX_AMOUNT)},
        ],
        "description": 'Yuan, exact to the fen: a decimal string such as "1234.50" (ASCII '
        "digits, an optional point; no sign, exponent or spaces) or a JSON number read as an "
        "exact decimal; at most two decimal places that are not zero, 0 to 999999999999.99. "
        "Floats in a host language cannot hold a fen exactly: send a string.",
    },
    mode="validation",
)
_MONEY_OUT = WithJsonSchema(
    {
        "type": "string",
        "pattern": r"^[0-9]{1,12}\.[0-9]{2}$",
        "description": "Yuan, exact to the fen, as a decimal string with two places.",
    },
    mode="serialization",
)

Money = Annotated[Decimal, BeforeValidator(_to_money), _MONEY_IN, _MONEY_OUT]
"""A non-negative amount in yuan, exact to the fen; serialised to JSON as a string.

Every money value holds exactly two decimal places (the reading above pads or refuses), so
pydantic-core's own decimal serialisation, ``str(value)``, writes it as ``format(value,
"f")`` would (``"0.00"``, ``"1234.50"``: no exponent for two places) without a call back
into Python per amount; an amount the engine builds without this reading (a result line's
``allowed_amount``) is a sum, difference or minimum of money, which keeps two places."""

Quantity = Annotated[
    Decimal,
    BeforeValidator(_to_quantity),
    PlainSerializer(_money_to_str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _QUANTITY_TEXT},
                {"type": "number", "minimum": 0, "maximum": float(MAX_AMOUNT)},
            ],
            "description": 'A number of units: a decimal string such as "2.5" or a JSON '
            "number read as an exact decimal; at most six decimal places that are not zero.",
        },
        mode="validation",
    ),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[0-9]{1,12}(?:\.[0-9]{1,6})?$"}, mode="serialization"
    ),
]
"""A non-negative number of units, at most six decimal places; serialised as a string."""


# --- text -----------------------------------------------------------------------------------


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} ({unicodedata.name(char, unicodedata.category(char))})"


def _check_identifier(value: str) -> str:
    # isprintable() is False for control (C0, DEL, C1), format (bidi, zero-width, BOM),
    # surrogate, private-use, unassigned and separator characters other than the ASCII space.
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        raise ValueError(
            f"contains {_describe(bad)}: an identifier carries only visible characters "
            "(no control, format, zero-width or bidi characters, no line breaks or tabs)"
        )
    if value[0] == " " or value[-1] == " ":
        raise ValueError("must not begin or end with whitespace")
    return value


_NOT_SPACE = r"[^\s\x1c-\x1f\x85\ufeff]"
"""A character that is no space in any regular-expression dialect a pattern meets: the
validator's (Rust ``regex``, Unicode White_Space), ECMA-262's (JSON Schema, OpenAPI) and
Python's (``jsonschema``). ``\\S`` alone differs between them: U+001C-U+001F are spaces to
Python only, U+0085 (NEL) to Python and Rust, U+FEFF to ECMA-262 only; naming them makes the
three sets one."""

_VISIBLE_ENDS = rf"^{_NOT_SPACE}(?:(?:.|[\r\u2028\u2029])*{_NOT_SPACE})?$"
"""JSON Schema only: no whitespace at either end and no line break (the validator decides).
The middle is any character but a line feed in every dialect (ECMA-262's ``.`` also stops
at CR, U+2028 and U+2029)."""

Identifier = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": _VISIBLE_ENDS}),
    AfterValidator(_check_identifier),
]
"""Free text that names something (an episode, a patient, a charge, a ward): 1-200 printable
characters (``str.isprintable``: no control, format, bidi, zero-width, surrogate or private-use
characters, no line break, tab or non-ASCII space), not beginning or ending with a space."""

NO_SPACE_PATTERN = rf"^{_NOT_SPACE}+$"
"""No space at all, read alike by the validator, JSON Schema and ``jsonschema``."""

CodeText = Annotated[
    str,
    Field(min_length=1, max_length=40, pattern=NO_SPACE_PATTERN),
    AfterValidator(_check_identifier),
]
"""A diagnosis or procedure code: an identifier of 1-40 characters with no space at all."""

_TEXT_WHITESPACE = frozenset("\t\n\r")


def _check_reason(value: str) -> str:
    visible = False
    for char in value:
        if char.isprintable():
            visible = visible or not char.isspace()
        elif char not in _TEXT_WHITESPACE:
            raise ValueError(
                f"contains {_describe(char)}: a reason carries visible text, with no control, "
                "format, zero-width or bidi characters"
            )
    if not visible:
        raise ValueError("must carry visible text (blank or invisible text is not a reason)")
    return value


ReasonText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_check_reason)]
"""Free text a decision depends on (``extension_reason``): 1-200 characters with at least one
visible character; tabs and line breaks are allowed between words, no other control or format
character is."""


def identity_key(value: str) -> str:
    """The form in which identifiers are compared for sameness: Unicode NFKC, so that a
    full-width ``ａ`` and ``a`` are the same id."""
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


# --- times ----------------------------------------------------------------------------------

EARLIEST = dt.datetime(1900, 1, 1, tzinfo=SHANGHAI)
LATEST = dt.datetime(3000, 1, 1, tzinfo=SHANGHAI)
"""Times must lie in the years 1900-2999 (Asia/Shanghai): far enough from the calendar's
ends that counting days and windows around them never leaves the representable range."""

_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
"""ISO 8601 extended form: ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` and an optional ``Z`` or
``±HH:MM``; nothing before or after it."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@functools.lru_cache(maxsize=4096)
def _read_time(text: str) -> dt.datetime:
    """One time string, read once: an episode repeats its times charge after charge."""
    if not _DATE_TIME.fullmatch(text):
        if _DATE.fullmatch(text):
            raise ValueError(f"{text!r} is a bare date; a date-time is required")
        shown = ascii(text) if len(text) <= 40 else ascii(text[:40]) + "..."
        raise ValueError(
            f"{shown} is not an ISO 8601 date-time: write YYYY-MM-DDTHH:MM[:SS[.ffffff]] "
            "with an optional Z or +HH:MM, nothing around it"
        )
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time ({exc})") from None
    return _in_range(value)


def _in_range(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=SHANGHAI)
    if not EARLIEST.year < value.year < LATEST.year - 1 and not EARLIEST <= value < LATEST:
        raise ValueError("a date-time must lie in the years 1900-2999")
    return value


def _to_aware(value: object) -> dt.datetime:
    if type(value) is str:
        return _read_time(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        raise ValueError("a date-time is required, not a bare date")
    if not isinstance(value, dt.datetime):
        raise ValueError(f"an ISO 8601 date-time string is required, not {type(value).__name__}")
    return _in_range(value)


LocalDateTime = Annotated[
    dt.datetime,
    BeforeValidator(_to_aware),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^" + _DATE_TIME.pattern + "$",
            "description": "ISO 8601 date-time YYYY-MM-DDTHH:MM[:SS[.ffffff]] with an optional "
            "Z or +HH:MM; without an offset it is read as Asia/Shanghai (UTC+08:00). Years "
            "1900-2999. Not RFC 3339: seconds and the offset may be left out.",
        },
        mode="validation",
    ),
]
"""A timezone-aware date-time; naive input is read as Asia/Shanghai."""


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day of ``moment`` in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI).date()


class Programme(StrEnum):
    """The day-care programmes (日间医疗类别)."""

    DAY_SURGERY = "day_surgery"  # 日间手术
    DAY_CHEMO = "day_chemo"  # 日间化疗
    ONCOLOGY_DAY_WARD = "oncology_day_ward"  # 肿瘤患者放化疗日间病房
    TCM_DAY_CARE = "tcm_day_care"  # 中医日间医疗


class Setting(StrEnum):
    """Where a charge arose relative to the episode."""

    OUTPATIENT = "outpatient"
    DAY_CARE = "day_care"
    INPATIENT = "inpatient"
    POST_DISCHARGE = "post_discharge"


class Category(StrEnum):
    """The 14 charge categories of the national settlement list (医保结算清单收费项目类别)."""

    BED = "bed"  # 01 床位费
    CONSULTATION = "consultation"  # 02 诊察费
    EXAMINATION = "examination"  # 03 检查费
    LAB_TEST = "lab_test"  # 04 化验费
    TREATMENT = "treatment"  # 05 治疗费
    SURGERY = "surgery"  # 06 手术费
    NURSING = "nursing"  # 07 护理费
    MEDICAL_MATERIAL = "medical_material"  # 08 卫生材料费
    WESTERN_DRUG = "western_drug"  # 09 西药费
    HERBAL_DECOCTION = "herbal_decoction"  # 10 中药饮片费
    CHINESE_PATENT_DRUG = "chinese_patent_drug"  # 11 中成药费
    GENERAL_DIAGNOSIS = "general_diagnosis"  # 12 一般诊疗费
    REGISTRATION = "registration"  # 13 挂号费
    OTHER = "other"  # 14 其他费

    @property
    def national_code(self) -> str:
        """The two-digit national code, "01"–"14"."""
        return f"{list(Category).index(self) + 1:02d}"

    @classmethod
    def parse(cls, value: Any) -> Category:
        """Accept a category by name or by its national code ("01"–"14")."""
        if isinstance(value, Category):
            return value
        if type(value) is str:  # exactly as written: no spaces, ASCII digits only
            found = _CATEGORIES.get(value)
            if found is not None:
                return found
        names = ", ".join(c.value for c in cls)
        raise ValueError(f"unknown charge category {value!r}: use a name ({names}) or a code 01-14")


_CATEGORIES: dict[str, Category] = {
    **{c.value: c for c in Category},
    **{c.national_code: c for c in Category},
}


CategoryField = Annotated[
    Category,
    BeforeValidator(Category.parse),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [c.value for c in Category] + [c.national_code for c in Category],
            "description": "A charge category of the national settlement list by name, or by "
            "its national code 01-14 (01 床位费 … 14 其他费).",
        },
        mode="validation",
    ),
]


class CodeSystem(StrEnum):
    """Coding systems for diagnoses and procedures."""

    ICD_10 = "ICD-10"
    TCD = "TCD"  # 中医病证分类与代码
    ICD_9_CM_3 = "ICD-9-CM-3"


class SessionKind(StrEnum):
    SURGERY = "surgery"
    CHEMOTHERAPY = "chemotherapy"
    RADIOTHERAPY = "radiotherapy"
    TCM = "tcm"


class Route(StrEnum):
    """Route of administration of a drug or a chemotherapy session."""

    INTRAVENOUS = "intravenous"
    ORAL = "oral"
    SUBCUTANEOUS = "subcutaneous"
    INTRAMUSCULAR = "intramuscular"
    INTRATHECAL = "intrathecal"
    INTRA_ARTERIAL = "intra_arterial"
    INTRACAVITARY = "intracavitary"
    TOPICAL = "topical"

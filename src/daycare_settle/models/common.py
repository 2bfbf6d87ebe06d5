"""Shared value types: money, time, and the vocabularies of the national settlement list.

Money is :class:`~decimal.Decimal` with at most two decimal places (the fen), finite and
non-negative; floats are refused because they cannot carry a fen exactly. Times are
timezone-aware: a naive ISO 8601 value is read as Asia/Shanghai (UTC+08:00), the zone in
which every policy here counts its days.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

from dateutil import tz
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

SHANGHAI = tz.gettz("Asia/Shanghai")
"""The default zone for naive input and the zone in which calendar days are counted."""
if SHANGHAI is None:  # pragma: no cover - dateutil ships its own zone database
    raise RuntimeError("time zone Asia/Shanghai is not available")

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")


class FrozenModel(BaseModel):
    """Base for every model: unknown fields rejected, instances immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _to_money(value: Any) -> Decimal:
    if (
        type(value) is Decimal
        and value.as_tuple().exponent == -2
        and not value.is_signed()
        and value <= MAX_AMOUNT
    ):
        return value  # already money: the engine re-reads amounts it has validated
    if isinstance(value, bool | float):
        kind = "a boolean" if isinstance(value, bool) else "a float"
        raise ValueError(
            f"money must be a decimal string, an integer or a Decimal, not {kind} "
            "(floats cannot hold a fen exactly; quote the amount)"
        )
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal amount") from None
    if not isinstance(value, Decimal):
        raise ValueError(f"money must be a decimal string, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError("money must be a finite amount (NaN and Infinity are refused)")
    if value < 0:
        raise ValueError("money must not be negative")
    if value > MAX_AMOUNT:
        raise ValueError(f"money must not exceed {MAX_AMOUNT}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(FEN):
        raise ValueError("money has more than two decimal places (the fen is the smallest unit)")
    return abs(value.quantize(FEN))  # abs: "-0" is read as 0.00, never written as -0.00


def _to_quantity(value: Any) -> Decimal:
    if isinstance(value, bool | float):
        raise ValueError("quantity must be a decimal string, an integer or a Decimal, not a float")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{value!r} is not a decimal quantity") from None
    if not number.is_finite() or number < 0 or number > MAX_AMOUNT:
        raise ValueError("quantity must be a finite, non-negative number")
    return abs(number)  # "-0" is 0


def _money_to_str(value: Decimal) -> str:
    return format(value, "f")


Money = Annotated[
    Decimal,
    BeforeValidator(_to_money),
    PlainSerializer(_money_to_str, return_type=str, when_used="json"),
]
"""A non-negative amount in yuan, exact to the fen; serialised to JSON as a string."""

Quantity = Annotated[
    Decimal,
    BeforeValidator(_to_quantity),
    PlainSerializer(_money_to_str, return_type=str, when_used="json"),
]


EARLIEST = dt.datetime(1900, 1, 1, tzinfo=SHANGHAI)
LATEST = dt.datetime(3000, 1, 1, tzinfo=SHANGHAI)
"""Times must lie in the years 1900-2999 (Asia/Shanghai): far enough from the calendar's
ends that counting days and windows around them never leaves the representable range."""


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _to_aware(value: object) -> dt.datetime:
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= len("2025-03-10") and _is_date(text):  # the longest bare date
            raise ValueError(f"{text!r} is a bare date; a date-time is required")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        raise ValueError("a date-time is required, not a bare date")
    if not isinstance(value, dt.datetime):
        raise ValueError(f"an ISO 8601 date-time string is required, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=SHANGHAI)
    if not EARLIEST.year < value.year < LATEST.year - 1 and not EARLIEST <= value < LATEST:
        raise ValueError("a date-time must lie in the years 1900-2999")
    return value


LocalDateTime = Annotated[dt.datetime, BeforeValidator(_to_aware)]
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
        if isinstance(value, str):
            text = value.strip()
            if text.isdigit() and len(text) == 2 and 1 <= int(text) <= len(cls):
                return list(cls)[int(text) - 1]
            try:
                return cls(text)
            except ValueError:
                pass
        names = ", ".join(c.value for c in cls)
        raise ValueError(f"unknown charge category {value!r}: use a name ({names}) or a code 01-14")


CategoryField = Annotated[Category, BeforeValidator(Category.parse)]


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

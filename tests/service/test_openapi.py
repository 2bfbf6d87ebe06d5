"""Schemathesis against the service's own OpenAPI document, over real HTTP on loopback:
no 5xx, and every answer (status, content type, headers, body) matches the document.

Bounded: at most :data:`EXAMPLES` generated requests per operation, no deadline.

Every default check runs, ``positive_data_acceptance`` included, in the form
:func:`positive_data_acceptance_but_documented`: a schema-valid request must be accepted
unless it is refused for one of the rules in :data:`DOCUMENTED_REFUSALS`, the rules JSON
Schema cannot state (an episode discharged before its admission, a policy not in force on
the admission day, a 31 April, an amount with a third decimal in a JSON number, an invisible
character in an id, ...). Each is a documented 422 whose problems all name such a rule, so a
refusal for anything the schema could have said (an empty charge list, a month 13) is a
schema/validation disagreement and fails the test.

``POST /v1/settle`` takes an ``Episode`` or ``PlatformRecords`` body (``oneOf``) and
``?from=`` chooses which: OpenAPI cannot tie a body's form to a query parameter, so a body
of the form ``from`` did not choose is refused (``invalid_episode`` /
``invalid_platform_records``), and the check accepts that refusal only when the body is
indeed not valid against the chosen form's schema. Platform records of the chosen form may
be refused only for the rules of :data:`PLATFORM_REFUSALS` (or, in their supplement and in
the episode they make, for those of :data:`DOCUMENTED_REFUSALS`).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from daycare_settle.service import NDJSON, openapi
from tests.service.conftest import LiveServer

EXAMPLES = 25
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

_INDEX = r"\[\d+\]"
_TIME = (
    r"(?:admitted_at|discharged_at|conversion\.at|clinical_pathway\.(?:first_visit_at|ended_at)"
    rf"|sessions{_INDEX}\.(?:start|end)|charges{_INDEX}\.at)"
)
_ANY = ".*"  # an identifier or code anywhere: the message names the rule

DOCUMENTED_REFUSALS: tuple[tuple[str, str, str], ...] = (
    # (field path, message, why JSON Schema cannot state it) — regular expressions
    ("discharged_at", "is before admitted_at", "an order between two fields"),
    (
        r"conversion\.at",
        r"lies outside the stay \(admitted_at\.\.discharged_at\)",
        "an order between fields",
    ),
    (r"clinical_pathway\.first_visit_at", "is after admitted_at", "an order between fields"),
    (r"clinical_pathway\.ended_at", "is before admitted_at", "an order between fields"),
    (rf"sessions{_INDEX}", r"session end is before its start", "an order between fields"),
    (rf"sessions{_INDEX}", rf"overlaps sessions{_INDEX}", "an order across items"),
    (rf"sessions{_INDEX}", "lies outside the stay", "an order between fields"),
    (
        rf"charges{_INDEX}\.id",
        rf"'.*' repeats charges{_INDEX}\.id",
        "uniqueItems compares whole items, not one member (and not in NFKC form)",
    ),
    (
        rf"charges{_INDEX}\.institution_id",
        r"differs from institution\.id .* only in its Unicode form \(NFKC\)",
        "a comparison with another field, in NFKC form",
    ),
    (
        rf"charges{_INDEX}\.setting",
        "'inpatient' needs a conversion on the episode",
        "a condition on another field",
    ),
    ("charges", r"the \d+ charges sum to \d+(?:\.\d+)?, above the ceiling", "a sum over items"),
    (
        _TIME,
        r"'.*' is not a valid date-time \(day is out of range for month\)",
        "the length of each month (the pattern already bounds days to 01-31)",
    ),
    (
        _TIME,
        "a date-time must lie in the years 1900-2999",
        "the years are bounded in Asia/Shanghai, after the offset is applied",
    ),
    (
        rf"charges{_INDEX}\.amount",
        r"money has more than two decimal places",
        "the decimals of a JSON number (multipleOf 0.01 is a float test); strings are bounded",
    ),
    (
        rf"charges{_INDEX}\.quantity",
        r"quantity has more than \d+ decimal places",
        "the decimals of a JSON number; strings are bounded by their pattern",
    ),
    (
        r"institution\.tier",
        "Input should be a valid integer",
        "JSON Schema counts 2.0 as an integer; the validator reads integers strictly",
    ),
    (
        _ANY,
        r"contains U\+[0-9A-F]{4,6} \(.*\): an identifier carries only visible characters",
        "Unicode categories (control, format, bidi, private use): no \\p{} in the pattern",
    ),
    (
        _ANY,
        "must not begin or end with whitespace",
        "Python's whitespace is wider than the pattern dialect's \\s",
    ),
    (
        r"extension_reason",
        r"contains U\+[0-9A-F]{4,6} \(.*\): a reason carries visible text|must carry visible text",
        "Unicode categories",
    ),
)
"""The refusals of a schema-valid episode the document describes and the check accepts."""


_ROW = rf"feedetail{_INDEX}"
_PLATFORM_TIME = rf"(?:mdtrtinfo\.begntime|dscginfo\.endtime|{_ROW}\.fee_ocur_time)"

PLATFORM_REFUSALS: tuple[tuple[str, str, str], ...] = (
    # (field path, message, why JSON Schema cannot state it) — regular expressions
    (
        r"mdtrtinfo\.med_type",
        r"'.*' names no programme of policy",
        "the codes are the policy's (its rule file's platform: section), chosen by ?policy",
    ),
    (
        rf"(?:dscginfo|{_ROW})\.psn_no",
        r"is not mdtrtinfo\.psn_no",
        "an equality between fields",
    ),
    (
        "diseinfo",
        r"exactly one diagnosis must have maindiag_flag '1'",
        "a count of items with a value (2020-12 maxContains, which the generator ignores)",
    ),
    (rf"diseinfo{_INDEX}\.diag_srt_no", rf"\d+ repeats diseinfo{_INDEX}", "a member's uniqueness"),
    (rf"{_ROW}\.feedetl_sn", rf"'.*' repeats {_ROW}\.feedetl_sn", "a member's uniqueness"),
    (r"supplement\.charges\[.*\]", "names no charge row", "a key naming another item"),
    (rf"{_ROW}\.med_type", r"is not mdtrtinfo\.med_type", "an equality between fields"),
    (rf"{_ROW}\.cnt", r"is negative \(a refund\) but init_feedetl_sn", "a condition on a field"),
    (rf"{_ROW}\.det_item_fee_sumamt", "is negative on a charge row", "a condition on a field"),
    (rf"{_ROW}\.cnt", "must be negative on a refund row", "a condition on another field"),
    (
        rf"{_ROW}\.det_item_fee_sumamt",
        "must not be positive on a refund row",
        "a condition on another field",
    ),
    (rf"{_ROW}\.init_feedetl_sn", "'.*' names no row of feedetail", "a reference to an item"),
    (rf"{_ROW}\.init_feedetl_sn", "'.*' is itself a refund row", "a reference to an item"),
    (
        rf"{_ROW}\.(?:mdtrt_id|med_list_codg|med_chrgitm_type)",
        rf"is not the refunded row's \(.*, feedetail{_INDEX}\)",
        "an equality with the referenced item",
    ),
    (rf"{_ROW}\.init_feedetl_sn", "refunds more than feedetail", "a sum over items"),
    (
        _PLATFORM_TIME,
        r"'.*' is not a valid date-time \(day is out of range for month\)",
        "the length of each month (the pattern already bounds days to 01-31)",
    ),
    (
        rf"{_ROW}\.(?:det_item_fee_sumamt|cnt|pric)",
        r"has more than \d+ decimal places",
        "the decimals of a JSON number; strings are bounded by their pattern",
    ),
    (
        rf"diseinfo{_INDEX}\.diag_srt_no",
        "Input should be a valid integer",
        "JSON Schema counts 2.0 as an integer; the validator reads integers strictly",
    ),
    (
        _ANY,
        r"contains U\+[0-9A-F]{4,6} \(.*\): an identifier carries only visible characters",
        "Unicode categories (control, format, bidi, private use): no \\p{} in the pattern",
    ),
    (
        _ANY,
        "must not begin or end with whitespace",
        "Python's whitespace is wider than the pattern dialect's \\s",
    ),
)
"""The refusals of schema-valid platform records the document describes and the check
accepts (besides the episode's rules in the supplement and in the episode they make)."""

_FORMS = {
    "episode": ("Episode", "invalid_episode"),
    "platform": ("PlatformRecords", "invalid_platform_records"),
}


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    root = {"components": openapi()["components"], "$ref": f"#/components/schemas/{name}"}
    return jsonschema.Draft202012Validator(root)


def _valid(body: Any, name: str) -> bool:
    """Whether the body is valid against the named schema of the OpenAPI document."""
    return bool(_validator(name).is_valid(body))


def _value_at(body: Any, path: str) -> Any:
    """The value at a problem's field path (``charges[2].amount``) in the request body."""
    node = body
    for name, index in re.findall(r"([a-z_]+)|\[(\d+)\]", path):
        try:
            node = node[int(index)] if index else node[name]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def documented(
    problem: dict[str, Any],
    body: Any,
    rules: tuple[tuple[str, str, str], ...] = DOCUMENTED_REFUSALS,
) -> bool:
    """Whether one problem of a 422 is one of the ``rules`` (:data:`DOCUMENTED_REFUSALS`)."""
    path, message = problem.get("path", ""), problem.get("message", "")
    for path_rule, message_rule, _ in rules:
        if re.fullmatch(path_rule, path) and re.match(message_rule, message):
            value = _value_at(body, path)
            if "decimal places" in message_rule:
                # only a JSON number: a decimal string's places are bounded by its pattern
                return isinstance(value, int | float)
            if "valid integer" in message_rule:
                # only a whole number written with a fraction part (2.0)
                return isinstance(value, float) and value.is_integer()
            return True
    return False


def documented_platform(problem: dict[str, Any], records: Any) -> bool:
    """Whether one problem of an ``invalid_platform_records`` answer is a documented rule:
    one of :data:`PLATFORM_REFUSALS`, or an episode rule in the supplement
    (``supplement.sessions[0]``) or in the episode the records make
    (``(episode) discharged_at``; no value there to read, so no rule on a JSON number)."""
    path, message = problem.get("path", ""), problem.get("message", "")
    if documented(problem, records, PLATFORM_REFUSALS):
        return True
    if path.startswith("supplement."):
        supplement = records.get("supplement") if isinstance(records, dict) else None
        inner = {"path": path.removeprefix("supplement."), "message": message}
        return documented(inner, supplement)
    if path.startswith("(episode) "):
        return documented({"path": path.removeprefix("(episode) "), "message": message}, None)
    return False


def documented_refusal(case: Any, response: Any) -> bool:
    """A 422 the document describes for a schema-valid request: no version of the policy in
    force on the admission day; on ``/v1/settle``, a body of the form ``?from=`` did not
    choose, refused as not of the chosen form; or invalid input every problem of which is a
    documented rule that JSON Schema cannot state."""
    if response.status_code != 422:
        return False
    answer = response.json()
    if answer.get("code") == "policy_not_in_force":
        return True
    body = case.body
    query = getattr(case, "query", None) or {}
    chosen = query.get("from", "episode")
    if getattr(case, "path", None) == "/v1/settle" and chosen in _FORMS:
        schema, code = _FORMS[chosen]
        (other,) = [name for form, (name, _) in _FORMS.items() if form != chosen]
        if answer.get("code") == code and _valid(body, other) and not _valid(body, schema):
            return True  # a body of the oneOf's other form: ?from chose this one
        if chosen == "platform":
            problems = answer.get("problems") or []
            return (
                answer.get("code") == code
                and bool(problems)
                and all(documented_platform(p, body) for p in problems)
            )
    if isinstance(body, dict) and "episode" in body:  # the review envelope
        if answer.get("code") == "invalid_feedetail":
            # rows must name the episode's charges: a rule across members, not a schema's
            return True
        body = body["episode"]
    problems = answer.get("problems") or []
    return (
        answer.get("code") == "invalid_episode"
        and bool(problems)
        and all(documented(p, body) for p in problems)
    )


def positive_data_acceptance_but_documented(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's ``positive_data_acceptance``, accepting the documented refusals."""
    if documented_refusal(case, response):
        return None
    return schemathesis.checks.positive_data_acceptance(ctx, response, case)


# a JSON-lines body is text: send what was generated for it as text/plain would be sent
schemathesis.serializer.alias(NDJSON, "text/plain")

schema = schemathesis.openapi.from_dict(openapi())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_answer_matches_the_openapi_document(case: Any, live: LiveServer) -> None:
    excluded = [schemathesis.checks.positive_data_acceptance]
    if case.operation.path == "/v1/batch":
        # any text is a JSON-lines body (a line that is no episode gets an error record),
        # so a "non-string" body generated as negative data is still valid input
        excluded.append(schemathesis.checks.negative_data_rejection)
    case.call_and_validate(
        base_url=live.url,
        excluded_checks=excluded,
        additional_checks=[positive_data_acceptance_but_documented],
    )


class _Answer:
    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self._body = body

    def json(self) -> dict[str, Any]:
        return self._body


class _Case:
    def __init__(
        self, body: Any, query: dict[str, str] | None = None, path: str = "/v1/settle"
    ) -> None:
        self.body = body
        self.query = query
        self.path = path


def _invalid(*problems: tuple[str, str]) -> _Answer:
    listed = [{"path": path, "message": message} for path, message in problems]
    return _Answer(422, {"code": "invalid_episode", "problems": listed})


BODY = {
    "institution": {"id": "h", "tier": 2.0},
    "charges": [{"id": "c1", "amount": 1.005}, {"id": "c2", "amount": "1.005"}],
}


@pytest.mark.parametrize(
    ("problem", "accepted"),
    [
        (("discharged_at", "is before admitted_at"), True),
        (("charges[1].id", "'c1' repeats charges[0].id"), True),
        (
            (
                "admitted_at",
                "'2025-04-31T08:00' is not a valid date-time (day is out of range for month)",
            ),
            True,
        ),
        (
            (
                "charges[0].amount",
                "money has more than two decimal places (the fen is the smallest unit)",
            ),
            True,
        ),
        (("institution.tier", "Input should be a valid integer"), True),
        # what the OpenAPI document states is not excused
        (("charges", "must list at least one item"), False),
        (
            ("admitted_at", "'2025-13-01T08:00' is not a valid date-time (month must be in 1..12)"),
            False,
        ),
        # a decimal string's places are bounded by its pattern: its refusal is a disagreement
        (
            (
                "charges[1].amount",
                "money has more than two decimal places (the fen is the smallest unit)",
            ),
            False,
        ),
        (("charges[0].amount", "money must not be negative"), False),
        (("episode_id", "Field required"), False),
    ],
)
def test_the_check_excuses_only_documented_rules(problem: tuple[str, str], accepted: bool) -> None:
    assert documented_refusal(_Case(BODY), _invalid(problem)) is accepted


def test_one_undocumented_problem_among_documented_ones_fails_the_check() -> None:
    answer = _invalid(
        ("discharged_at", "is before admitted_at"), ("charges", "must list at least one item")
    )
    assert not documented_refusal(_Case(BODY), answer)


def test_a_policy_not_in_force_is_a_documented_refusal_and_other_answers_are_not() -> None:
    assert documented_refusal(_Case(BODY), _Answer(422, {"code": "policy_not_in_force"}))
    assert not documented_refusal(_Case(BODY), _Answer(400, {"code": "invalid_request"}))
    assert not documented_refusal(_Case(BODY), _Answer(422, {"code": "invalid_episode"}))


def test_the_document_states_non_empty_lists_and_calendar_ranges() -> None:
    schemas = openapi()["components"]["schemas"]
    assert schemas["Episode"]["properties"]["charges"]["minItems"] == 1
    assert schemas["Episode"]["properties"]["diagnoses"]["minItems"] == 1
    pattern = re.compile(schemas["Episode"]["properties"]["admitted_at"]["pattern"])
    assert pattern.match("2025-04-30T08:00+08:00")
    for bad in ("0000-01-01T08:00", "2025-13-01T08:00", "2025-04-32T08:00", "2025-04-30T24:00"):
        assert not pattern.match(bad), bad
    assert not pattern.match("2025-04-30T08:00+24:00")


def _platform_records() -> dict[str, Any]:
    path = EXAMPLES_DIR / "platform" / "panzhihua" / "day-chemo-breast-cancer.json"
    records: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return records


def _episode() -> dict[str, Any]:
    path = EXAMPLES_DIR / "panzhihua" / "day-chemo-breast-cancer.json"
    episode: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return episode


def _refused(code: str, *problems: tuple[str, str]) -> _Answer:
    listed = [{"path": path, "message": message} for path, message in problems]
    return _Answer(422, {"code": code, "problems": listed})


PLATFORM = {"from": "platform"}


def test_a_body_of_the_other_form_is_a_documented_refusal_only_when_it_is_of_the_other_form() -> (
    None
):
    episode, records = _episode(), _platform_records()
    refusal = _refused("invalid_platform_records", ("mdtrtinfo", "required field is missing"))
    assert documented_refusal(_Case(episode, PLATFORM), refusal)
    assert documented_refusal(
        _Case(records), _refused("invalid_episode", ("episode_id", "Field required"))
    )
    # records of the chosen form refused for a rule the schema states: a disagreement
    assert not documented_refusal(_Case(records, PLATFORM), refusal)
    # an episode under from=platform refused with the episode's code: not the form refusal
    assert not documented_refusal(
        _Case(episode, PLATFORM), _refused("invalid_episode", ("mdtrtinfo", "x"))
    )
    # an episode under from=episode refused for a stated rule: still a disagreement
    assert not documented_refusal(
        _Case(episode), _refused("invalid_episode", ("episode_id", "Field required"))
    )


@pytest.mark.parametrize(
    ("problem", "accepted"),
    [
        (
            ("mdtrtinfo.med_type", "'9x' names no programme of policy 'panzhihua' (its codes: …)"),
            True,
        ),
        (("diseinfo", "exactly one diagnosis must have maindiag_flag '1' (found 2)"), True),
        (("feedetail[2].init_feedetl_sn", "'F9' names no row of feedetail (a refund of …)"), True),
        (("feedetail[1].feedetl_sn", "'F1' repeats feedetail[0].feedetl_sn (a charge id …)"), True),
        (("feedetail[1].cnt", "must be negative on a refund row (init_feedetl_sn …)"), True),
        (("dscginfo.psn_no", "is not mdtrtinfo.psn_no ('P1')"), True),
        (
            (
                "mdtrtinfo.begntime",
                "'2025-04-31 08:00:00' is not a valid date-time (day is out of range for month)",
            ),
            True,
        ),
        (("supplement.sessions[0]", "session end is before its start"), True),
        (("(episode) discharged_at", "is before admitted_at"), True),
        (("(episode) sessions[0]", "overlaps sessions[1]"), True),
        # what the document states is not excused
        (("mdtrtinfo.begntime", "'0000-01-01 08:00:00' is not a platform time"), False),
        (("diseinfo[0].diag_srt_no", "Input should be less than or equal to 99"), False),
        (("feedetail", "List should have at least 1 item after validation, not 0"), False),
        (("supplement.institution.tier", "Input should be less than or equal to 3"), False),
        # a decimal string's places are bounded by its pattern: a disagreement
        (
            (
                "feedetail[0].det_item_fee_sumamt",
                "has more than 2 decimal places (the platform's precision is 16,2)",
            ),
            False,
        ),
        (("(episode) charges", "must list at least one item"), False),
        (("diseinfo", "must list at least one item"), False),
        # a list whose every row is bad is refused for its rows only, never also for its length
        (("diseinfo", "Tuple should have at least 1 item after validation, not 0"), False),
    ],
)
def test_the_check_excuses_only_documented_platform_rules(
    problem: tuple[str, str], accepted: bool
) -> None:
    records = _platform_records()
    answer = _refused("invalid_platform_records", problem)
    assert documented_refusal(_Case(records, PLATFORM), answer) is accepted


def test_an_empty_list_refused_for_its_length_is_a_disagreement() -> None:
    records = _platform_records()
    records["feedetail"] = []
    answer = _refused(
        "invalid_platform_records",
        ("feedetail", "must list at least one item"),
    )
    assert not documented_refusal(_Case(records, PLATFORM), answer)


def test_the_platform_document_states_calendar_ranges_and_bounds() -> None:
    schemas = openapi()["components"]["schemas"]
    pattern = re.compile(schemas["Mdtrtinfo"]["properties"]["begntime"]["pattern"])
    assert pattern.match("2025-04-30 08:00:00")
    for bad in ("0000-01-01 08:00:00", "2025-13-01 08:00:00", "2025-04-30 24:00:00"):
        assert not pattern.match(bad), bad
    order = schemas["Diseinfo"]["properties"]["diag_srt_no"]
    assert {"type": "integer", "minimum": 0, "maximum": 99} in order["anyOf"]
    assert not {"ge", "le"} & {key for branch in order["anyOf"] for key in branch}
    price = schemas["Feedetail"]["properties"]["pric"]["anyOf"]
    assert {"type": "number", "exclusiveMaximum": 10**10, "minimum": 0} in price
    assert schemas["Supplement"]["properties"]["charges"]["additionalProperties"] is False

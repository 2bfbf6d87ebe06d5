"""The HTTP service (extra ``daycare_settle[server]``): ``daycare-settle serve``.

``create_app()`` builds a stateless ASGI application (Starlette, served by uvicorn):

- ``POST /v1/settle?policy=ID``: an episode (JSON) in, its settlement out — the bytes of
  ``Settlement.to_json()``, the same JSON as ``Settlement.model_dump(mode="json")``.
  ``?from=platform``: the body is platform records (:mod:`daycare_settle.platform`), settled
  to the same result as the episode they describe; bad records answer ``422
  invalid_platform_records`` with the field paths.
- ``POST /v1/batch?policy=ID``: JSON lines in (episodes, or with ``?from=platform``
  platform record sets), JSON lines out, streamed: one line per non-blank input line, in
  input order — the compact settlement JSON or the error record of
  :mod:`daycare_settle.batch` (``{"line", "status": "error", "error": {"code",
  "message"}}``). Settled in this process, in chunks on a worker thread: no process pool
  per request (a pool costs more to start than most batches take; run more copies of the
  service to use more cores).
- ``POST /v1/review?policy=ID``: an episode (or ``{"episode", "feedetail"}``) in, the
  settlement's findings in the platform's 3101 review shape and a disposition per
  fee-detail row out (:mod:`daycare_settle.platform.review`).
- ``GET /v1/policies``: every bundled policy with its versions (window, document, SHA-256,
  programmes); a policy whose rule file is broken is listed with its error.
- ``GET /v1/policies/{id}?on=YYYY-MM-DD``: the version in force on a day (default: today
  in Asia/Shanghai): header, files and hashes, programmes, the clauses it cites and the
  register of readings.
- ``GET /healthz``; ``GET /openapi.json`` (OpenAPI 3.1, written here, its schemas generated
  from the models).

Every answer carries ``X-Daycare-Settle-Version``. Every error is an RFC 9457 problem
detail (``application/problem+json``) with the library's stable ``code`` and, for an
invalid episode, ``problems`` ``[{path, message}]``; an unexpected exception is logged and
answered ``500`` with code ``internal_error``, never a bare error page. Request bodies
above ``max_body`` bytes (default 16 MiB) are refused with ``413``. Only bundled policy
ids are accepted: a ``policy`` naming a file path is an unknown policy, never read.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from dataclasses import asdict
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.json_schema import models_json_schema
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import batch
from ._version import __version__
from .engine import settle
from .errors import (
    DaycareSettleError,
    InvalidArgument,
    InvalidEpisode,
    PolicyLoadError,
    PolicyNotInForce,
    UnknownPolicy,
)
from .exact_json import loads_exact
from .models import Episode, Settlement
from .models.common import SHANGHAI, LocalDateTime
from .platform import PlatformNotConfigured, PlatformRecords, settle_records
from .platform.review import InvalidFeeDetail, PlatformReview, review_episode
from .policy import Policy, policy_ids, resolve_policy, versions
from .policy.readings import readings

__all__ = ["MAX_BODY", "VERSION_HEADER", "create_app", "openapi", "serve"]

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024
"""The default request body limit in bytes (16 MiB)."""
VERSION_HEADER = "X-Daycare-Settle-Version"
PROBLEM_TYPE = "urn:daycare-settle:problem:"
"""A problem's ``type`` is this prefix and its ``code`` (a URN: nothing to dereference)."""
PROBLEM_JSON = "application/problem+json"
NDJSON = "application/x-ndjson"
BATCH_CHUNK = 32
"""Episodes settled per hop to the worker thread in ``/v1/batch``."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STATUS: dict[type[DaycareSettleError], int] = {
    InvalidEpisode: 422,
    InvalidFeeDetail: 422,
    PolicyNotInForce: 422,
    UnknownPolicy: 404,
    InvalidArgument: 400,
    PolicyLoadError: 500,
    PlatformNotConfigured: 422,
}
_TITLES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}


# --- answers ----------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProblemField(_Model):
    """One problem with the input: where (``charges[2].amount``, ``query.on``) and what."""

    path: str
    message: str


class Problem(_Model):
    """An RFC 9457 problem detail with the library's stable error ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    problems: list[ProblemField] | None = None


class Health(_Model):
    status: str
    version: str


class VersionSummary(_Model):
    """One version of a policy as indexed."""

    version: str
    document: str
    title: str
    region: str
    effective_from: dt.date
    effective_until: dt.date | None
    """The last day in force: the header's ``effective_until``, or for a version a later
    amendment ends, the day before the amendment starts (``null``: open)."""
    sha256: str
    """The combined digest of every file the version reads (see ``PolicyRef``)."""
    programmes: list[str]


class PolicyError(_Model):
    code: str
    message: str


class PolicyEntry(_Model):
    """A bundled policy: its versions, oldest first, or the error that breaks it."""

    id: str
    versions: list[VersionSummary] | None = None
    error: PolicyError | None = None


class PolicyList(_Model):
    policies: list[PolicyEntry]


class FileHash(_Model):
    path: str
    sha256: str


class ClauseCited(_Model):
    key: str
    document: str
    clause: str
    quote: str


class Reading(_Model):
    """An entry of the register of readings (see :mod:`daycare_settle.policy.readings`)."""

    path: str
    clause: str
    value: str
    provenance: str
    note: str
    alternative: str
    setting: str


class PolicyDetail(_Model):
    """The version of a policy in force on ``on``."""

    id: str
    on: dt.date
    version: VersionSummary
    files: list[FileHash]
    clauses: list[ClauseCited]
    readings: list[Reading]


def _problem(
    status: int, code: str, detail: str, problems: list[ProblemField] | None = None
) -> Response:
    body = Problem(
        type=PROBLEM_TYPE + code,
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        problems=problems,
    )
    return Response(
        body.model_dump_json(exclude_none=True), status_code=status, media_type=PROBLEM_JSON
    )


def _library_problem(error: DaycareSettleError, status: int | None = None) -> Response:
    if status is None:
        status = next((s for kind, s in _STATUS.items() if isinstance(error, kind)), 400)
    problems = None
    if isinstance(error, InvalidEpisode):
        problems = [ProblemField(path=p.path, message=p.message) for p in error.problems]
    return _problem(status, error.code, error.message, problems)


def _json(model: BaseModel) -> Response:
    return Response(model.model_dump_json(), media_type="application/json")


class _Refused(Exception):
    """A request the service refuses: the problem detail to answer."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _bad_query(name: str, message: str) -> _Refused:
    return _Refused(
        _problem(
            400,
            "invalid_request",
            f"query parameter {name!r}: {message}",
            [ProblemField(path=f"query.{name}", message=message)],
        )
    )


# --- request pieces ---------------------------------------------------------------------


def _policy_id(request: Request) -> str:
    """The ``policy`` query parameter: a bundled policy id (never a path)."""
    values = request.query_params.getlist("policy")
    if len(values) != 1:
        raise _bad_query("policy", "give exactly one bundled policy id")
    return _known(values[0])


def _known(policy: str) -> str:
    known = policy_ids()
    if policy not in known:
        raise _Refused(
            _library_problem(
                UnknownPolicy(
                    f"no policy with id {policy!r} (bundled: {', '.join(known) or 'none'})"
                )
            )
        )
    return policy


def _input_format(request: Request) -> str:
    """``?from=``: ``episode`` (the default) or ``platform`` (platform records)."""
    values = request.query_params.getlist("from")
    if not values:
        return "episode"
    if len(values) == 1 and values[0] in ("episode", "platform"):
        return values[0]
    message = (
        f"unknown input format {values[0]!r}: the service reads episodes (?from=episode) "
        "and platform records (?from=platform)"
        if len(values) == 1
        else "give the input format once"
    )
    raise _Refused(
        _problem(
            400,
            "unsupported_input_format",
            message,
            [ProblemField(path="query.from", message=message)],
        )
    )


def _day(request: Request) -> dt.date:
    """``?on=YYYY-MM-DD``, or today in Asia/Shanghai."""
    text = request.query_params.get("on")
    if text is None:
        return dt.datetime.now(SHANGHAI).date()
    if not _DATE.fullmatch(text):
        raise _bad_query("on", "a calendar date YYYY-MM-DD is required")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise _bad_query("on", f"not a calendar date: {exc}") from None


# --- endpoints --------------------------------------------------------------------------


async def _settle(request: Request) -> Response:
    source = _input_format(request)
    policy = _policy_id(request)
    body = await request.body()
    read = settle_records if source == "platform" else settle
    result: Settlement = await anyio.to_thread.run_sync(lambda: read(body, policy=policy))
    return Response(result.to_json().encode("utf-8"), media_type="application/json")


_REVIEW_REQUEST: dict[str, Any] = {
    "anyOf": [
        {"$ref": "#/components/schemas/Episode"},
        {
            "type": "object",
            "required": ["episode"],
            "additionalProperties": False,
            "properties": {
                "episode": {"$ref": "#/components/schemas/Episode"},
                "feedetail": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["feedetl_sn"],
                        "properties": {
                            "feedetl_sn": {"type": "string", "minLength": 1},
                            "init_feedetl_sn": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        },
    ]
}
"""The body of ``POST /v1/review``: an episode, or the envelope with fee-detail rows."""


async def _review(request: Request) -> Response:
    """``POST /v1/review?policy=ID``: the 3101-shaped review (docs/platform-review.md)."""
    policy = _policy_id(request)
    body = await request.body()
    episode: Any = body
    rows: Any = None
    try:  # as settle() reads it: numbers as Decimal, repeated keys refused
        decoded = loads_exact(body)
    except (ValueError, RecursionError):
        decoded = None  # settle() names the JSON problem
    if isinstance(decoded, dict) and "episode" in decoded:
        extra = sorted(set(decoded) - {"episode", "feedetail"})
        if extra:
            raise _Refused(
                _problem(
                    400,
                    "invalid_request",
                    f"unknown member(s) of the review envelope: {', '.join(extra)}",
                    [ProblemField(path=extra[0], message="not a member of the envelope")],
                )
            )
        episode, rows = decoded["episode"], decoded.get("feedetail")
    elif isinstance(decoded, dict):  # a plain episode, read once
        episode = decoded
    review = await anyio.to_thread.run_sync(lambda: review_episode(episode, policy, rows))
    return Response(review.to_json().encode("utf-8"), media_type="application/json")


async def _batch(request: Request) -> Response:
    source: batch.InputFormat = "platform" if _input_format(request) == "platform" else "episode"
    policy = _policy_id(request)
    await anyio.to_thread.run_sync(resolve_policy, policy)  # a broken policy fails here
    body = await request.body()
    lines = body.split(b"\n")

    async def records() -> AsyncIterator[bytes]:
        for chunk in _chunks(lines):
            raws = await anyio.to_thread.run_sync(batch.settle_chunk, chunk, policy, source)
            yield "".join(batch.BatchRecord.from_raw(raw).to_json() + "\n" for raw in raws).encode(
                "utf-8"
            )

    return StreamingResponse(records(), media_type=NDJSON)


def _chunks(lines: list[bytes]) -> Iterator[list[tuple[int, batch.BatchItem]]]:
    """The non-blank lines with their 1-based line numbers, :data:`BATCH_CHUNK` at a time."""
    numbered: list[tuple[int, batch.BatchItem]] = [
        (number, line) for number, line in enumerate(lines, start=1) if not batch.is_blank(line)
    ]
    for start in range(0, len(numbered), BATCH_CHUNK):
        yield numbered[start : start + BATCH_CHUNK]


async def _policies(request: Request) -> Response:
    return _json(await anyio.to_thread.run_sync(_policy_list))


def _policy_list() -> PolicyList:
    entries = []
    for policy_id in policy_ids():
        try:
            found = versions(policy_id)
        except DaycareSettleError as exc:
            error = PolicyError(code=exc.code, message=exc.message)
            entries.append(PolicyEntry(id=policy_id, error=error))
        else:
            entries.append(PolicyEntry(id=policy_id, versions=[_summary(p) for p in found]))
    return PolicyList(policies=entries)


def _summary(policy: Policy) -> VersionSummary:
    header = policy.rules.policy
    return VersionSummary(
        version=header.version,
        document=header.document,
        title=header.title,
        region=header.region,
        effective_from=header.effective_from,
        effective_until=policy.last_day,  # the registry's end for an amended version
        sha256=policy.sha256,
        programmes=[p.value for p in policy.rules.programmes],
    )


async def _policy(request: Request) -> Response:
    policy_id = _known(request.path_params["id"])
    day = _day(request)
    try:
        policy = await anyio.to_thread.run_sync(lambda: resolve_policy(policy_id, on=day))
    except PolicyNotInForce as exc:
        return _library_problem(exc, 404)
    return _json(_detail(policy, day))


def _detail(policy: Policy, day: dt.date) -> PolicyDetail:
    header = policy.rules.policy
    return PolicyDetail(
        id=policy.id,
        on=day,
        version=_summary(policy),
        files=[FileHash(path=f.path, sha256=f.sha256) for f in policy.files],
        clauses=[
            ClauseCited(
                key=key,
                document=clause.document or header.document,
                clause=clause.clause,
                quote=clause.quote,
            )
            for key, clause in policy.rules.clauses.items()
        ],
        readings=[Reading(**asdict(entry)) for entry in readings(policy)],
    )


async def _health(request: Request) -> Response:
    return _json(Health(status="ok", version=__version__))


# --- the application --------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _guarded(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Library errors and refusals become problem details."""

    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except _Refused as refused:
            return refused.response
        except DaycareSettleError as exc:
            return _library_problem(exc)

    return guarded


async def _http_problem(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, wrong method) as problem details."""
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for these only
        raise exc
    codes = {404: "not_found", 405: "method_not_allowed"}
    status = exc.status_code
    response = _problem(status, codes.get(status, "invalid_request"), str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    """Any other exception: 413 for a body found too large while read, else
    ``internal_error`` (the envelope logs it: Starlette raises it again)."""
    if isinstance(exc, _BodyTooLarge):
        return exc.response
    return _internal_error()


def _internal_error() -> Response:
    return _problem(500, "internal_error", "internal error; it has been logged")


class _BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.response = _problem(
            413, "request_too_large", f"the request body is larger than {limit} bytes"
        )
        self.response.headers["connection"] = "close"


class _Envelope:
    """The outermost layer: the version header on every answer, the body limit, and a
    problem detail (``internal_error``) for any exception the application let through."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        received = 0

        async def send_versioned(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                headers.append((VERSION_HEADER.lower().encode(), __version__.encode()))
                message = {**message, "headers": headers}
            await send(message)

        async def receive_bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLarge(self.max_body)
            return message

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await _BodyTooLarge(self.max_body).response(scope, receive, send_versioned)
            return
        try:
            await self.app(scope, receive_bounded, send_versioned)
        except _BodyTooLarge as exc:
            if not started:
                await exc.response(scope, receive, send_versioned)
        except Exception:
            log.exception("internal error answering %s %s", scope["method"], scope["path"])
            if not started:  # else the answer had begun: the connection is closed short
                await _internal_error()(scope, receive, send_versioned)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def create_app(*, max_body: int = MAX_BODY) -> ASGIApp:
    """The service as an ASGI application (stateless: run as many copies as wanted)."""
    document = openapi()
    served = json.dumps(document, ensure_ascii=False).encode("utf-8")

    async def openapi_json(request: Request) -> Response:
        return Response(served, media_type="application/json")

    app = Starlette(
        routes=[
            Route("/v1/settle", _guarded(_settle), methods=["POST"]),
            Route("/v1/batch", _guarded(_batch), methods=["POST"]),
            Route("/v1/review", _guarded(_review), methods=["POST"]),
            Route("/v1/policies", _guarded(_policies), methods=["GET"]),
            Route("/v1/policies/{id}", _guarded(_policy), methods=["GET"]),
            Route("/healthz", _health, methods=["GET"]),
            Route("/openapi.json", openapi_json, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_problem, Exception: _unexpected},
    )
    return _Envelope(app, max_body)


def serve(host: str = "127.0.0.1", port: int = 8080) -> int:
    """Run the service with uvicorn until interrupted."""
    import uvicorn  # noqa: PLC0415 - imported only to serve

    if not 0 <= port <= 65535:
        raise InvalidArgument(f"--port must be 0..65535, not {port}")
    uvicorn.run(create_app(), host=host, port=port, server_header=False, log_level="info")
    return 0


# --- OpenAPI ----------------------------------------------------------------------------


def _problem_responses(*statuses: int) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Problem"}
    return {
        str(status): {
            "description": _TITLES[status],
            "content": {PROBLEM_JSON: {"schema": ref}},
        }
        for status in statuses
    }


def _parameter(name: str, where: str, description: str, schema: dict[str, Any]) -> Any:
    return {
        "name": name,
        "in": where,
        "required": where == "path" or name == "policy",
        "description": description,
        "schema": schema,
    }


_CALENDAR_DATE_TIME = (
    r"^(?:19|2[0-9])[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?$"
)
"""The episode's date-time form with the calendar's ranges spelt out: years 1900-2999, months
01-12, days 01-31, hours 00-23, minutes and seconds 00-59, offsets under 24 hours. What it
cannot say (a 31st of a 30-day month; an offset that moves a time out of 1900-2999 in
Asia/Shanghai) is still refused, as 422 ``invalid_episode`` (see docs/service.md)."""


_MODEL_DATE_TIME = TypeAdapter(LocalDateTime).json_schema(mode="validation")["pattern"]


def _tighten(schemas: dict[str, Any]) -> None:
    """Add to the request schemas the rules of the validators that JSON Schema can state but
    the schemas generated from the models leave out: the calendar ranges of a date-time
    and the non-empty diagnoses and charges (an after-validator in the model, so that one
    bad charge is not also reported as "too few charges")."""
    episode = schemas["Episode"]["properties"]
    for name in ("diagnoses", "charges"):
        episode[name]["minItems"] = 1
    dated = 0

    def walk(node: Any) -> None:
        nonlocal dated
        if isinstance(node, dict):
            if node.get("pattern") == _MODEL_DATE_TIME:
                node["pattern"] = _CALENDAR_DATE_TIME
                dated += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk([schemas[name] for name in ("Episode", "Charge", "Session", "Conversion")])
    walk(schemas["ClinicalPathway"])
    if not dated:  # pragma: no cover - the models' date-time schema changed: say so
        raise RuntimeError("openapi(): no date-time schema found to tighten")


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service (schemas generated from the models)."""
    _, defs = models_json_schema(
        [
            (Episode, "validation"),
            (PlatformRecords, "validation"),
            (Settlement, "serialization"),
            (Problem, "serialization"),
            (Health, "serialization"),
            (PolicyList, "serialization"),
            (PolicyDetail, "serialization"),
            (PlatformReview, "serialization"),
        ],
        ref_template="#/components/schemas/{model}",
    )
    schemas = defs["$defs"]
    _tighten(schemas)
    ids = policy_ids()
    policy = _parameter(
        "policy",
        "query",
        "a bundled policy id (see GET /v1/policies); another id answers 404 unknown_policy",
        {"type": "string", "enum": ids},
    )
    source = _parameter(
        "from",
        "query",
        "the input format: `episode` (the default, an Episode) or `platform` (platform "
        "records, PlatformRecords: docs/integration.md); another answers 400 "
        "`unsupported_input_format`",
        {"type": "string", "enum": ["episode", "platform"]},
    )

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    def ok(media: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {"200": {"description": description, "content": {media: {"schema": schema}}}}

    version_header = {
        VERSION_HEADER: {
            "description": "the library version that answered",
            "schema": {"type": "string"},
        }
    }
    paths: dict[str, Any] = {
        "/v1/settle": {
            "post": {
                "operationId": "settle",
                "summary": "Settle one episode under a bundled policy",
                "parameters": [policy, source],
                "requestBody": {
                    "required": True,
                    "description": "an Episode (`from=episode`, the default) or PlatformRecords "
                    "(`from=platform`): the query chooses the form, which OpenAPI cannot tie "
                    "to a parameter, so the body is either; a body of the other form answers "
                    "422 (`invalid_episode` / `invalid_platform_records`)",
                    "content": {
                        "application/json": {
                            "schema": {"oneOf": [ref("Episode"), ref("PlatformRecords")]}
                        }
                    },
                },
                "responses": {
                    **ok(
                        "application/json",
                        ref("Settlement"),
                        "the settlement (the bytes of Settlement.to_json())",
                    ),
                    **_problem_responses(400, 404, 413, 422, 500),
                },
            }
        },
        "/v1/batch": {
            "post": {
                "operationId": "settleBatch",
                "summary": "Settle JSON lines, streamed: one line out per non-blank line in",
                "parameters": [policy, source],
                "requestBody": {
                    "required": False,  # no body, no lines: an empty stream
                    "description": "one episode (JSON) per line, or with `from=platform` one "
                    "platform record set per line; blank lines are skipped",
                    "content": {NDJSON: {"schema": {"type": "string"}}},
                },
                "responses": {
                    **ok(
                        NDJSON,
                        {"type": "string"},
                        "one compact settlement or error record per non-blank input line",
                    ),
                    **_problem_responses(400, 404, 413, 500),
                },
            }
        },
        "/v1/review": {
            "post": {
                "operationId": "review",
                "summary": "Settle one episode and answer in the platform's 3101 review shape, "
                "with a disposition per fee-detail row",
                "parameters": [policy],
                "requestBody": {
                    "required": True,
                    "description": 'an episode, or {"episode": EPISODE, "feedetail": '
                    '[{"feedetl_sn", "init_feedetl_sn"}, ...]} for one disposition per row',
                    "content": {"application/json": {"schema": _REVIEW_REQUEST}},
                },
                "responses": {
                    **ok("application/json", ref("PlatformReview"), "the review"),
                    **_problem_responses(400, 404, 413, 422, 500),
                },
            }
        },
        "/v1/policies": {
            "get": {
                "operationId": "listPolicies",
                "summary": "The bundled policies, their versions, windows and hashes",
                "responses": {
                    **ok("application/json", ref("PolicyList"), "the policies"),
                    **_problem_responses(500),
                },
            }
        },
        "/v1/policies/{id}": {
            "get": {
                "operationId": "getPolicy",
                "summary": "The version of a policy in force on a day: clauses and readings",
                "parameters": [
                    _parameter("id", "path", "a bundled policy id", {"type": "string"}),
                    _parameter(
                        "on",
                        "query",
                        "the day (YYYY-MM-DD; default: today in Asia/Shanghai)",
                        {"type": "string", "format": "date"},
                    ),
                ],
                "responses": {
                    **ok("application/json", ref("PolicyDetail"), "the version in force"),
                    **_problem_responses(400, 404, 500),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Liveness",
                "responses": ok("application/json", ref("Health"), "alive"),
            }
        },
    }
    for item in paths.values():
        for operation in item.values():
            for answer in operation["responses"].values():
                answer["headers"] = version_header
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "daycare-settle",
            "version": __version__,
            "description": "Settles day-care episodes under Chinese medical-insurance "
            f"policies, citing the clause behind every decision. Bundled policies: "
            f"{', '.join(ids)}. Errors are RFC 9457 problem details with a stable `code`.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }

"""The service over real HTTP on loopback: each endpoint, its problem details and the
version header (``daycare_settle.service``)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jsonschema
import pytest

from daycare_settle import __version__, settle
from daycare_settle import service as service_module
from daycare_settle.errors import PolicyLoadError
from daycare_settle.models.common import SHANGHAI
from daycare_settle.platform import settle_records
from daycare_settle.policy import policy_ids, resolve_policy, versions
from daycare_settle.policy.readings import readings
from daycare_settle.policy.registry import refresh, rules_root
from tests.builders import EXAMPLES, episode, example_episodes
from tests.policy.test_amendments import FIXTURE
from tests.service.conftest import LiveServer

EXAMPLE_PATHS = example_episodes()
PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The RFC 9457 body of ``response``, checked for its status, code and version header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["x-daycare-settle-version"] == __version__
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:daycare-settle:problem:{code}"
    assert body["title"]
    assert body["detail"]
    return body


# --- /healthz and the version header -----------------------------------------------------


def test_healthz_answers_ok_with_the_version(live: LiveServer) -> None:
    response = live.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}
    assert response.headers["x-daycare-settle-version"] == __version__


def test_unknown_route_and_wrong_method_are_problem_details(live: LiveServer) -> None:
    problem(live.client.get("/v2/nothing"), 404, "not_found")
    wrong = live.client.delete("/healthz")
    problem(wrong, 405, "method_not_allowed")
    assert "GET" in wrong.headers["allow"]


# --- POST /v1/settle ------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLE_PATHS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_settle_answers_the_bytes_of_to_json(live: LiveServer, path: Any) -> None:
    body = path.read_bytes()
    response = live.client.post("/v1/settle", params={"policy": path.parent.name}, content=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-daycare-settle-version"] == __version__
    wanted = settle(body, policy=path.parent.name)
    assert response.content == wanted.to_json().encode("utf-8")
    assert response.json() == wanted.model_dump(mode="json")
    expected = path.with_name(path.stem + ".expected.json").read_bytes()
    assert response.content + b"\n" == expected


def test_settle_malformed_json_is_invalid_episode(live: LiveServer) -> None:
    response = live.client.post("/v1/settle", params={"policy": "panzhihua"}, content=b'{"x":')
    body = problem(response, 422, "invalid_episode")
    assert body["problems"][0]["path"] == ""
    assert "malformed JSON" in body["problems"][0]["message"]


def test_settle_invalid_episode_names_the_fields(live: LiveServer) -> None:
    bad = episode(programme="space")
    bad["charges"] = [{"id": "c1", "at": "2025-03-10T09:00:00", "amount": 1.5}]
    response = live.client.post("/v1/settle", params={"policy": "panzhihua"}, json=bad)
    body = problem(response, 422, "invalid_episode")
    paths = {p["path"] for p in body["problems"]}
    assert "programme" in paths
    assert any(path.startswith("charges[0]") for path in paths)
    assert all(set(p) == {"path", "message"} for p in body["problems"])


def test_settle_not_utf8_is_invalid_episode(live: LiveServer) -> None:
    response = live.client.post(
        "/v1/settle", params={"policy": "panzhihua"}, content=b'{"episode_id": "\xff"}'
    )
    problem(response, 422, "invalid_episode")


def test_settle_unknown_policy_is_404(live: LiveServer) -> None:
    response = live.client.post("/v1/settle", params={"policy": "atlantis"}, json=episode())
    body = problem(response, 404, "unknown_policy")
    assert "atlantis" in body["detail"]


def test_settle_never_reads_a_rule_file_path(live: LiveServer) -> None:
    rule_file = resolve_policy("panzhihua").file
    response = live.client.post("/v1/settle", params={"policy": rule_file}, json=episode())
    problem(response, 404, "unknown_policy")


@pytest.mark.parametrize("query", [{}, {"policy": ["panzhihua", "qingyuan"]}])
def test_settle_needs_exactly_one_policy(live: LiveServer, query: dict[str, Any]) -> None:
    response = live.client.post("/v1/settle", params=query, json=episode())
    body = problem(response, 400, "invalid_request")
    assert body["problems"] == [
        {"path": "query.policy", "message": "give exactly one bundled policy id"}
    ]


def test_settle_policy_not_in_force_on_admission(live: LiveServer) -> None:
    old = episode(admitted_at="2020-01-01T08:00:00", discharged_at="2020-01-01T10:00:00")
    response = live.client.post("/v1/settle", params={"policy": "panzhihua"}, json=old)
    body = problem(response, 422, "policy_not_in_force")
    assert "2020-01-01" in body["detail"]


def test_settle_from_platform_reads_platform_records(live: LiveServer) -> None:
    response = live.client.post(
        "/v1/settle", params={"policy": "panzhihua", "from": "platform"}, json=episode()
    )
    body = problem(response, 422, "invalid_platform_records")
    assert {"path": "mdtrtinfo", "message": "required field is missing"} in body["problems"]
    unknown = live.client.post(
        "/v1/settle", params={"policy": "panzhihua", "from": "hl7"}, json=episode()
    )
    assert problem(unknown, 400, "unsupported_input_format")["problems"][0]["path"] == (
        "query.from"
    )
    explicit = live.client.post(
        "/v1/settle", params={"policy": "panzhihua", "from": "episode"}, json=episode()
    )
    assert explicit.status_code == 200


def test_an_unexpected_exception_is_a_logged_internal_error(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service_module, "settle", broken)
    response = live.client.post("/v1/settle", params={"policy": "panzhihua"}, json=episode())
    body = problem(response, 500, "internal_error")
    assert "a bug" not in response.text  # nothing internal leaks to the caller
    assert any("a bug" in (r.exc_text or "") for r in caplog.records), body


# --- the body limit -------------------------------------------------------------------


def test_an_oversize_body_is_413(small: LiveServer) -> None:
    response = small.client.post("/v1/settle", params={"policy": "panzhihua"}, content=b" " * 1_001)
    body = problem(response, 413, "request_too_large")
    assert "1000 bytes" in body["detail"]


def test_an_oversize_chunked_body_is_413(small: LiveServer) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100

    response = small.client.post("/v1/batch", params={"policy": "panzhihua"}, content=chunks())
    assert "content-length" not in response.request.headers
    problem(response, 413, "request_too_large")


def test_a_body_at_the_limit_is_read(small: LiveServer) -> None:
    body = json.dumps({"episode_id": "x"}).encode().ljust(1_000)
    response = small.client.post("/v1/settle", params={"policy": "panzhihua"}, content=body)
    problem(response, 422, "invalid_episode")


def test_the_default_limit_is_16_mib(live: LiveServer) -> None:
    # Only the head is sent, declaring one byte over the limit: the server must answer 413
    # from Content-Length alone (sending 16 MiB races the server's early answer and close).
    host, port = live.client.base_url.host, live.client.base_url.port
    assert port is not None
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(
            b"POST /v1/settle?policy=panzhihua HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {service_module.MAX_BODY + 1}\r\n\r\n".encode("ascii")
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer.lower()


# --- POST /v1/batch -------------------------------------------------------------------


def test_batch_streams_one_record_per_line_in_order(live: LiveServer) -> None:
    paths = example_episodes("panzhihua")
    texts = [json.dumps(json.loads(p.read_bytes()), ensure_ascii=False) for p in paths]
    lines = [texts[0], "", "{not json", *texts[1:], "   "]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    with live.client.stream(
        "POST", "/v1/batch", params={"policy": "panzhihua"}, content=body
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.headers["x-daycare-settle-version"] == __version__
        out = list(response.iter_lines())
    assert len(out) == len(texts) + 1
    assert out[0] == settle(texts[0], policy="panzhihua").to_json(indent=None)
    assert json.loads(out[1]) == {
        "line": 3,
        "status": "error",
        "error": {
            "code": "invalid_episode",
            "message": json.loads(out[1])["error"]["message"],
        },
    }
    assert "malformed JSON" in json.loads(out[1])["error"]["message"]
    for text, got in zip(texts[1:], out[2:], strict=True):
        assert got == settle(text, policy="panzhihua").to_json(indent=None)


def test_batch_many_lines_cross_chunks_in_order(live: LiveServer) -> None:
    count = service_module.BATCH_CHUNK * 2 + 5
    lines = [json.dumps(episode(episode_id=f"EP-{n}")) for n in range(count)]
    response = live.client.post(
        "/v1/batch", params={"policy": "panzhihua"}, content="\n".join(lines)
    )
    assert response.status_code == 200
    ids = [json.loads(line)["episode_id"] for line in response.text.splitlines()]
    assert ids == [f"EP-{n}" for n in range(count)]


def test_batch_empty_body_is_an_empty_stream(live: LiveServer) -> None:
    response = live.client.post("/v1/batch", params={"policy": "panzhihua"}, content=b"")
    assert response.status_code == 200
    assert response.content == b""


def test_batch_unknown_policy_is_a_problem_before_any_line(live: LiveServer) -> None:
    response = live.client.post("/v1/batch", params={"policy": "atlantis"}, content=b"{}\n")
    problem(response, 404, "unknown_policy")


def test_batch_from_platform_settles_each_record_set_as_alone(live: LiveServer) -> None:
    records = [
        (path.parent.name, path.read_text(encoding="utf-8"))
        for path in sorted((EXAMPLES / "platform").glob("*/*.json"))
        if not path.name.endswith(".expected.json")
    ]
    policy, text = next((p, t) for p, t in records if p == "panzhihua")
    compact = json.dumps(json.loads(text), ensure_ascii=False)
    body = "\n".join([compact, "", "{not json", '{"mdtrtinfo": {}}', compact])
    response = live.client.post(
        "/v1/batch", params={"policy": policy, "from": "platform"}, content=body.encode("utf-8")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    out = response.text.splitlines()
    alone = settle_records(text, policy=policy).to_json(indent=None)
    assert [out[0], out[3]] == [alone, alone]
    for got, line in zip(out[1:3], (3, 4), strict=True):
        record = json.loads(got)
        assert record["line"] == line
        assert record["status"] == "error"
        assert record["error"]["code"] == "invalid_platform_records"


def test_batch_from_an_unknown_format_is_refused(live: LiveServer) -> None:
    response = live.client.post(
        "/v1/batch", params={"policy": "panzhihua", "from": "hl7"}, content=b"{}\n"
    )
    body = problem(response, 400, "unsupported_input_format")
    assert body["problems"][0]["path"] == "query.from"


# --- GET /v1/policies -----------------------------------------------------------------


def test_policies_lists_every_version_with_its_window_and_hash(live: LiveServer) -> None:
    response = live.client.get("/v1/policies")
    assert response.status_code == 200
    listed = {entry["id"]: entry for entry in response.json()["policies"]}
    assert sorted(listed) == policy_ids()
    for policy_id, entry in listed.items():
        assert entry["error"] is None
        wanted = versions(policy_id)
        assert [v["sha256"] for v in entry["versions"]] == [p.sha256 for p in wanted]
        for got, policy in zip(entry["versions"], wanted, strict=True):
            header = policy.rules.policy
            assert got["effective_from"] == header.effective_from.isoformat()
            assert got["effective_until"] == (
                None if header.effective_until is None else header.effective_until.isoformat()
            )
            assert got["version"] == header.version
            assert got["programmes"] == [p.value for p in policy.rules.programmes]


def test_a_broken_policy_is_listed_with_its_error(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = policy_ids()[0]

    def versions_or_error(policy_id: str) -> Any:
        if policy_id == broken:
            raise PolicyLoadError("rules/broken.yaml", 3, "not a mapping")
        return versions(policy_id)

    monkeypatch.setattr(service_module, "versions", versions_or_error)
    response = live.client.get("/v1/policies")
    assert response.status_code == 200
    listed = {entry["id"]: entry for entry in response.json()["policies"]}
    assert listed[broken]["versions"] is None
    assert listed[broken]["error"] == {
        "code": "policy_load_error",
        "message": "rules/broken.yaml:3: not a mapping",
    }
    others = [entry for policy_id, entry in listed.items() if policy_id != broken]
    assert others
    assert all(entry["versions"] for entry in others)


# --- GET /v1/policies/{id} ------------------------------------------------------------


@pytest.mark.parametrize(
    "policy_id", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and p.name != "platform")
)
def test_policy_in_force_on_a_day_with_clauses_and_readings(
    live: LiveServer, policy_id: str
) -> None:
    first = versions(policy_id)[0]
    day = first.rules.policy.effective_from
    response = live.client.get(f"/v1/policies/{policy_id}", params={"on": day.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == policy_id
    assert body["on"] == day.isoformat()
    assert body["version"]["sha256"] == first.sha256
    assert [f["path"] for f in body["files"]] == [f.path for f in first.files]
    assert [c["key"] for c in body["clauses"]] == list(first.rules.clauses)
    assert all(c["quote"] and c["clause"] for c in body["clauses"])
    assert [r["path"] for r in body["readings"]] == [r.path for r in readings(first)]


def test_policy_without_a_day_is_the_version_in_force_today(live: LiveServer) -> None:
    # panzhihua's window is open-ended: some version of it is in force on any later day
    response = live.client.get("/v1/policies/panzhihua")
    assert response.status_code == 200
    today = dt.datetime.now(SHANGHAI).date()
    assert response.json()["on"] in {today.isoformat(), (today - dt.timedelta(1)).isoformat()}
    wanted = resolve_policy("panzhihua", on=dt.date.fromisoformat(response.json()["on"]))
    assert response.json()["version"]["sha256"] == wanted.sha256


def test_policy_not_in_force_on_the_day_is_404(live: LiveServer) -> None:
    response = live.client.get("/v1/policies/jining", params={"on": "1999-01-01"})
    body = problem(response, 404, "policy_not_in_force")
    assert "1999-01-01" in body["detail"]


@pytest.mark.parametrize("on", ["2025-02-30", "20250101", "yesterday", "2025-1-1"])
def test_policy_bad_day_is_400(live: LiveServer, on: str) -> None:
    response = live.client.get("/v1/policies/panzhihua", params={"on": on})
    body = problem(response, 400, "invalid_request")
    assert body["problems"][0]["path"] == "query.on"


def test_policy_unknown_id_is_404(live: LiveServer) -> None:
    problem(live.client.get("/v1/policies/atlantis"), 404, "unknown_policy")


# --- /openapi.json ----------------------------------------------------------------------


def test_openapi_is_3_1_and_names_every_route(live: LiveServer) -> None:
    response = live.client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["x-daycare-settle-version"] == __version__
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == __version__
    assert set(document["paths"]) == {
        "/v1/settle",
        "/v1/batch",
        "/v1/review",
        "/v1/policies",
        "/v1/policies/{id}",
        "/healthz",
    }
    schemas = document["components"]["schemas"]
    assert {"Episode", "Settlement", "Problem", "PolicyList", "PolicyDetail"} <= set(schemas)


def test_every_example_settlement_matches_the_openapi_schema(live: LiveServer) -> None:
    document = live.client.get("/openapi.json").json()
    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/Settlement", "components": document["components"]}
    )
    for path in EXAMPLE_PATHS:
        response = live.client.post(
            "/v1/settle", params={"policy": path.parent.name}, content=path.read_bytes()
        )
        assert response.status_code == 200
        errors = [e.message for e in validator.iter_errors(response.json())]
        assert errors == [], path
    broken = {"episode_id": "x", "policy": {}}
    assert list(validator.iter_errors(broken))  # the validator does refuse a non-settlement


def test_concurrent_requests_answer_the_same_bytes(live: LiveServer) -> None:
    paths = EXAMPLE_PATHS[:4]
    wanted = {p: settle(p.read_bytes(), policy=p.parent.name).to_json().encode() for p in paths}

    def post(path: Any) -> bytes:
        with httpx.Client(base_url=live.url, timeout=60) as client:
            response = client.post(
                "/v1/settle", params={"policy": path.parent.name}, content=path.read_bytes()
            )
            assert response.status_code == 200
            return response.content

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, paths * 4))
    assert answers == [wanted[p] for p in paths * 4]


def test_policies_list_the_registry_end_of_an_amended_version(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """docs/versions.md: a version a later amendment ends is listed with the registry's end
    (the day before the amendment starts), not its header's open window."""
    shutil.copytree(rules_root() / "panzhihua", tmp_path / "panzhihua")
    shutil.copy(FIXTURE, tmp_path / "panzhihua" / FIXTURE.name)
    refresh()
    monkeypatch.setattr(service_module, "versions", lambda policy_id: versions(policy_id, tmp_path))
    try:
        response = live.client.get("/v1/policies")
    finally:
        refresh()
    listed = {entry["id"]: entry for entry in response.json()["policies"]}
    windows = [(v["effective_from"], v["effective_until"]) for v in listed["panzhihua"]["versions"]]
    assert windows == [("2024-11-12", "2025-12-31"), ("2026-01-01", None)]

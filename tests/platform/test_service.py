"""``POST /v1/settle?policy=ID&from=platform``: platform records in, the settlement out."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from daycare_settle import settle
from tests.platform.records_builders import BASE, ROOT, records
from tests.service.conftest import LiveServer, serving


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with serving() as server:
        yield server


def test_platform_records_settle_to_the_native_bytes(live: LiveServer) -> None:
    response = live.client.post(
        "/v1/settle",
        params={"policy": "panzhihua", "from": "platform"},
        content=BASE.read_bytes(),
    )
    assert response.status_code == 200
    native = ROOT / "examples" / "panzhihua" / BASE.name
    assert response.content == settle(native.read_bytes(), policy="panzhihua").to_json().encode()


def test_bad_records_are_a_problem_with_field_paths(live: LiveServer) -> None:
    data = records()
    data["feedetail"][-1]["init_feedetl_sn"] = "NO-SUCH-ROW"
    response = live.client.post(
        "/v1/settle",
        params={"policy": "panzhihua", "from": "platform"},
        content=json.dumps(data).encode(),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "invalid_platform_records"
    assert [p["path"] for p in body["problems"]] == ["feedetail[6].init_feedetl_sn"]


def test_the_batch_reads_record_sets_with_from_platform(live: LiveServer) -> None:
    line = json.dumps(records(), ensure_ascii=False).encode("utf-8")
    response = live.client.post(
        "/v1/batch", params={"policy": "panzhihua", "from": "platform"}, content=line + b"\n{}\n"
    )
    assert response.status_code == 200
    settled, error = response.text.splitlines()
    native = ROOT / "examples" / "panzhihua" / BASE.name
    assert settled == settle(native.read_bytes(), policy="panzhihua").to_json(indent=None)
    assert json.loads(error)["error"]["code"] == "invalid_platform_records"


def test_openapi_offers_the_platform_format(live: LiveServer) -> None:
    document = live.client.get("/openapi.json").json()
    settle_op = document["paths"]["/v1/settle"]["post"]
    source = next(p for p in settle_op["parameters"] if p["name"] == "from")
    assert source["schema"]["enum"] == ["episode", "platform"]
    assert "PlatformRecords" in document["components"]["schemas"]

"""The platform review over the CLI (``settle --to platform-review``) and over real HTTP on
loopback (``POST /v1/review``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from daycare_settle import __version__
from daycare_settle.cli import main
from daycare_settle.platform.review import review_episode
from daycare_settle.schemas import json_schema
from daycare_settle.service import openapi
from tests.builders import at, charge, episode, example_episodes
from tests.service.conftest import serving

ROWS = [
    {"feedetl_sn": "c-1"},
    {"feedetl_sn": "c-2"},
    {"feedetl_sn": "c-2-r", "init_feedetl_sn": "c-2"},
]


def _episode() -> dict[str, Any]:
    return episode(
        charges=[charge("c-1", at(2), amount="80.00"), charge("c-2", at(2), amount="80.00")]
    )


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with serving() as server:
        yield server.client


def test_cli_settle_to_platform_review(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "episode.json"
    path.write_text(json.dumps(_episode()), encoding="utf-8")
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps(ROWS), encoding="utf-8")
    args = ["settle", str(path), "--policy", "panzhihua", "--to", "platform-review"]
    assert main([*args, "--feedetail", str(rows)]) == 0
    out = capsys.readouterr().out
    assert out == review_episode(_episode(), "panzhihua", ROWS).to_json() + "\n"
    data = json.loads(out)
    jsonschema.validate(data, json_schema("review"))
    assert [r["feedetl_sn"] for r in data["rows"]] == ["c-1", "c-2", "c-2-r"]
    assert data["rows"][2]["refund_of"] == "c-2"


def test_cli_unknown_row_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "episode.json"
    path.write_text(json.dumps(_episode()), encoding="utf-8")
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([*ROWS, {"feedetl_sn": "ghost"}]), encoding="utf-8")
    args = ["settle", str(path), "--policy", "panzhihua", "--to", "platform-review"]
    assert main([*args, "--feedetail", str(rows)]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "[invalid_feedetail] rows[3].feedetl_sn: 'ghost'" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"feedetl_sn": "c-1", "feedetl_sn": "c-2"}]', "key 'feedetl_sn' is given twice"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
        ('[{"feedetl_sn": "c-1", "cnt": NaN}]', "NaN is not a number JSON allows"),
    ],
)
def test_cli_feedetail_is_read_exactly_and_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    path = tmp_path / "episode.json"
    path.write_text(json.dumps(_episode()), encoding="utf-8")
    rows = tmp_path / "rows.json"
    rows.write_text(text, encoding="utf-8")
    args = ["settle", str(path), "--policy", "panzhihua", "--to", "platform-review"]
    assert main([*args, "--feedetail", str(rows)]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{rows}: not JSON" in captured.err
    assert message in captured.err
    assert "Traceback" not in captured.err


def test_cli_feedetail_needs_platform_review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "episode.json"
    path.write_text(json.dumps(_episode()), encoding="utf-8")
    assert main(["settle", str(path), "--policy", "panzhihua", "--feedetail", str(path)]) != 0
    assert "--feedetail needs --to platform-review" in capsys.readouterr().err


@pytest.mark.parametrize("path", example_episodes()[:4], ids=lambda p: p.stem)
def test_review_route_answers_the_review_of_an_episode(client: httpx.Client, path: Path) -> None:
    body = path.read_bytes()
    response = client.post("/v1/review", params={"policy": path.parent.name}, content=body)
    assert response.status_code == 200, response.text
    assert response.headers["x-daycare-settle-version"] == __version__
    expected = review_episode(body.decode("utf-8"), path.parent.name).to_json()
    assert response.text == expected


def test_review_route_takes_feedetail_rows(client: httpx.Client) -> None:
    envelope = {"episode": _episode(), "feedetail": ROWS}
    response = client.post("/v1/review", params={"policy": "panzhihua"}, json=envelope)
    assert response.status_code == 200, response.text
    assert response.text == review_episode(_episode(), "panzhihua", ROWS).to_json()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"episode": _episode(), "feedetail": [{"feedetl_sn": "ghost"}]}, 422, "invalid_feedetail"),
        ({"episode": _episode(), "rows": []}, 400, "invalid_request"),
        ({"episode": {"episode_id": "x"}}, 422, "invalid_episode"),
    ],
)
def test_review_route_problems(client: httpx.Client, body: Any, status: int, code: str) -> None:
    response = client.post("/v1/review", params={"policy": "panzhihua"}, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_review_route_unknown_policy_is_404(client: httpx.Client) -> None:
    response = client.post("/v1/review", params={"policy": "atlantis"}, json=_episode())
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_policy"


def test_openapi_documents_the_review_route() -> None:
    document = openapi()
    operation = document["paths"]["/v1/review"]["post"]
    assert operation["operationId"] == "review"
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/PlatformReview"}
    assert "PlatformReview" in document["components"]["schemas"]

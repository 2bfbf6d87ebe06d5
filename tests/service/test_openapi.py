"""Schemathesis against the service's own OpenAPI document, over real HTTP on loopback:
no 5xx, and every answer (status, content type, headers, body) matches the document.

Bounded: at most :data:`EXAMPLES` generated requests per operation, no deadline.

Every default check runs but ``positive_data_acceptance``: JSON Schema cannot say that an
episode is discharged after its admission, or that a policy is in force on the admission
day, so a schema-valid episode may rightly be refused (422 ``invalid_episode`` /
``policy_not_in_force``); that answer is documented and checked against the schema like
any other.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from daycare_settle.service import NDJSON, openapi
from tests.service.conftest import LiveServer

EXAMPLES = 25


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
    case.call_and_validate(base_url=live.url, excluded_checks=excluded)

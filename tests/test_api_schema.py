"""The whole /api/v1 API against its own OpenAPI document.

The document validates as OpenAPI 3.1 and says what each operation is for. Then schemathesis
walks EVERY operation the document has (so routes added later are walked without a change
here) with random valid and invalid input, on SQLite and PostgreSQL, with a key having every
scope, on the demo street (tickets, 议题, polls in two communities: a GET by number finds
things): no 5xx, every status and content type documented, every body as its schema says,
invalid input refused. POSTs file real tickets and subscriptions: fine, it is a test database.

`make test` runs a short run (SHORT examples an operation, derandomized: the same cases every
run); the long one is marked slow: `pytest -m slow tests/test_api_schema.py`
(YISHITING_API_EXAMPLES sets its examples an operation, LONG by default).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from api_keys import make_key
from conftest import Clock, db_of, make_app
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from schemathesis.openapi import from_wsgi

from bot.config import Settings
from devtools.demo import add_demo_data, add_demo_tickets

SHORT = 12  # valid, and as many invalid: 24 requests an operation
LONG = int(os.environ.get("YISHITING_API_EXAMPLES", "300"))
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
)
METHODS = ("get", "put", "post", "delete", "patch")


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document is not None
    validate(document)  # raises on any error; picks 3.1 from the document's `openapi`
    assert document["openapi"].startswith("3.1")


def test_every_operation_says_what_it_does(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document is not None
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(operations) >= 8
    for method, path, operation in operations:
        assert operation.get("summary", "").strip(), f"{method} {path}: no summary"
        assert operation.get("security") != [], f"{method} {path}: no key needed?"
        assert operation.get("x-scope"), f"{method} {path}: no needs(scope)"


@pytest.fixture
def demo_street(backend_settings: Settings, clock: Clock) -> Iterator[Flask]:
    """The demo street, with a rate limit the run never reaches."""
    settings = backend_settings.replace(api={"rate_limit_per_minute": 10**9})
    app = make_app(settings, clock=clock)
    with db_of(app).session() as db:
        now = datetime.now(UTC)
        add_demo_data(db, now)
        add_demo_tickets(db, now)
    yield app
    db_of(app).dispose()


def keeps_to_the_document(app: Flask, examples: int) -> None:
    """Every operation of the app's document, `examples` valid and `examples` invalid
    requests each (the same ones every run), and valid ones on the demo's #1 and #2 where a
    path names a number or an id (random ones find nothing); fails naming every operation
    that broke."""
    schema = from_wsgi("/api/v1/openapi.json", app)
    # Every request carries the key (not a random Authorization): the routes, not the door.
    schema.config.generation.update(with_security_parameters=False)
    key = {"Authorization": f"Bearer {make_key(app)}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:
        runs: list[tuple[str, Any]] = [
            (mode.value, operation.as_strategy(generation_mode=mode))
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        numbers = _integer_path_parameters(operation.definition.raw)
        if numbers:
            runs += [
                (f"#{n}", operation.as_strategy(path_parameters=dict.fromkeys(numbers, n)))
                for n in (1, 2)
            ]
        for name, strategy in runs:
            try:
                _walk(strategy, key, examples)
            except hypothesis.errors.Unsatisfiable:
                assert name == "negative", operation.label  # nothing to get wrong: no input
            except Exception as failure:  # noqa: BLE001 - each operation's, reported together
                failures.append(f"{operation.label} ({name}): {failure}")
    assert not failures, "\n\n".join(failures)


def _integer_path_parameters(definition: dict[str, Any]) -> list[str]:
    """The names of an operation's integer path parameters ({number}, {id}); [] when it
    has another kind too (a made-up value would not be valid input)."""
    found = [p for p in definition.get("parameters", ()) if p.get("in") == "path"]
    if not found or any(p.get("schema", {}).get("type") != "integer" for p in found):
        return []
    return [p["name"] for p in found]


def _walk(strategy: Any, key: dict[str, str], examples: int) -> None:
    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(strategy)
    def walk(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=key, checks=list(CHECKS))

    walk()


def test_every_operation_keeps_to_the_document(demo_street: Flask) -> None:
    keeps_to_the_document(demo_street, SHORT)


@pytest.fixture
def slow_run(request: pytest.FixtureRequest) -> None:
    """Skips the test unless asked for (`-m slow`), before the demo street is made."""
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("the long run: pytest -m slow tests/test_api_schema.py")


@pytest.mark.slow
def test_every_operation_keeps_to_the_document_long(slow_run: None, demo_street: Flask) -> None:
    keeps_to_the_document(demo_street, LONG)

"""The committed OpenAPI document (docs/openapi.json) matches the code: API changes are reviewed."""

import json
from pathlib import Path

from minyi.api.app import api

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def test_openapi_document_is_up_to_date():
    generated = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/"), sort_keys=True))
    committed = json.loads(SNAPSHOT.read_text())
    assert generated == committed, "The API changed: run `make openapi` and review docs/openapi.json"

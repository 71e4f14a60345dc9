"""Write the REST API's OpenAPI document to docs/openapi.json (`make openapi`).

tests/test_openapi_snapshot.py fails when the committed file differs from what the code
generates, so every API change shows up in review as a diff of this file.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minyi.settings_test")

import django  # noqa: E402

django.setup()

from minyi.api.app import api  # noqa: E402

target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/openapi.json")
schema = api.get_openapi_schema(path_prefix="/api/v1/")
target.write_text(json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
print(f"wrote {target}")

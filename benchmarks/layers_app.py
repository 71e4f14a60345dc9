"""The WSGI applications of benchmarks/intake_layers.py: one intake request stopped at each layer.
Benchmark code only; nothing here is part of the platform."""

from __future__ import annotations

import json

ANSWER = b'{"id": 0, "number": "", "status": "submitted"}'


def bare(environ, start_response):
    """The application server's ceiling: read and parse the body, answer 201."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:  # (a GET: the benchmark asking whether the server is up)
        json.loads(environ["wsgi.input"].read(length))
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(ANSWER)))])
    return [ANSWER]


def django_app():
    """Minyi's WSGI application with two more endpoints under /layers/, in front of its own URLs:
    `noop` (token authentication, the body parsed) and `validate` (and the intake's validation)."""
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.urls import path
    from ninja import NinjaAPI, Status

    from minyi import urls
    from minyi.api.auth import StaffOrPublicAuth, request_actor
    from minyi.tickets.intake import clean_submission

    api = NinjaAPI(urls_namespace="layers", docs_url=None, openapi_url=None)

    @api.post("/noop", auth=StaffOrPublicAuth(), response={201: dict})
    def noop(request):
        request_actor(request)
        json.loads(request.body)
        return Status(201, {"id": 0})

    @api.post("/validate", auth=StaffOrPublicAuth(), response={201: dict})
    def validate(request):
        request_actor(request)
        submission = clean_submission(json.loads(request.body), [], channel="api")
        return Status(201, {"id": 0, "title": submission.title})

    urls.urlpatterns.insert(0, path("layers/", api.urls))
    return get_wsgi_application()

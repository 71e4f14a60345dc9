"""Production keeps reference data and token actors per process for a while (tests read them
every time); the cached paths give the same answers and see edits after their time."""

from __future__ import annotations

from conftest import submission_data
from minyi.org import reference
from minyi.sla.models import TimeLimitPolicy
from minyi.tickets.intake import clean_submission


def test_intake_through_the_cached_reference_data(settings, org, django_assert_max_num_queries):
    settings.MINYI_REFERENCE_CACHE_SECONDS = 60
    reference.invalidate()
    clean_submission(submission_data(org), [], channel="hotline")  # fills the cache
    with django_assert_max_num_queries(0):
        submission = clean_submission(submission_data(org, street="莲花街道"), [], channel="hotline")
    assert (submission.category, submission.district, submission.street) == (org["property"], org["futian"], org["lianhua"])
    # A street of another district is refused as without the cache.
    from minyi.core.errors import InvalidInput

    try:
        clean_submission(submission_data(org, street="粤海街道"), [], channel="hotline")
    except InvalidInput as exc:
        assert exc.code == "invalid_street"
    else:  # pragma: no cover
        raise AssertionError("a street outside the district was accepted")


def test_time_limit_rules_come_from_the_snapshot_and_edits_arrive(settings, org):
    from minyi.sla.services import policy_for

    settings.MINYI_REFERENCE_CACHE_SECONDS = 60
    reference.invalidate()
    assert policy_for("complaint", org["property"])[0] == 15
    TimeLimitPolicy.objects.create(request_type="complaint", category=org["urban"], working_days=7, urgent_hours=24)
    assert policy_for("complaint", org["property"])[0] == 15  # still the cached rules
    reference.invalidate()  # what the passing of MINYI_REFERENCE_CACHE_SECONDS does
    assert policy_for("complaint", org["property"])[0] == 7  # the parent category's rule


def test_a_cached_token_actor_stops_with_the_token(settings, api, users, api_client, token_for):
    from minyi.org.models import ApiToken

    settings.MINYI_TOKEN_CACHE_SECONDS = 30
    headers = token_for("dispatcher")
    assert api_client.get("/api/v1/me", **headers).status_code == 200
    assert api_client.get("/api/v1/me", **headers).status_code == 200
    ApiToken.objects.all().delete()
    # Within the cache time the actor is still known; an expired or unknown token never is.
    assert api_client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401

"""`POST /api/v1/assist/intake`: suggestions and likely duplicates for a new request, for intake
agents and dispatchers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from minyi.api.auth import StaffAuth, request_actor
from minyi.api.schemas import DuplicateOut, ErrorOut, duplicate_out
from minyi.assist.suggest import suggest
from minyi.tickets import access
from minyi.tickets.duplicates import similar_to_draft

router = Router(tags=["assist"])

#: Who may ask for suggestions.


class IntakeIn(Schema):
    text: str = Field(min_length=1, max_length=5000)
    title: str = Field(default="", max_length=200)
    district: str | None = Field(
        None, max_length=60, description="District code or name when known; else the suggested one is used for `duplicates`"
    )
    street: str | None = Field(
        None, max_length=60, description="Street code or name when known; else the suggested one (if in the district)"
    )
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class SuggestionOut(Schema):
    value: str | int | bool | None = Field(
        description="RequestType value; Category or Unit id; Region code; or true/false for urgent."
    )
    label: str
    confidence: float = Field(ge=0, le=1)
    reasons: list[str] = Field(description="The words that drove the suggestion.")
    source: str = Field(description="model, rules, names, gazetteer, category or street")


class IntakeSuggestionsOut(Schema):
    type: SuggestionOut
    category: SuggestionOut
    unit: SuggestionOut
    urgent: SuggestionOut
    district: SuggestionOut
    street: SuggestionOut
    duplicates: list[DuplicateOut] = Field(
        description="Open tickets probably about the same issue (similar text, same street or district, "
        "nearby when coordinates are given, recent), most similar first; empty when no district is known."
    )


@router.post(
    "/intake",
    response={200: IntakeSuggestionsOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    auth=StaffAuth(),
)
def intake(request: HttpRequest, payload: IntakeIn) -> Any:
    """Suggest the request type, category, lead unit, urgency, district and street for a
    request's text, each with a confidence and the words that drove it, and list the open
    tickets that are likely duplicates of it (in the district and street given, else the
    suggested ones). Nothing is saved."""
    actor = request_actor(request)
    access.access_intake_suggestions(actor)
    found = suggest(payload.text, payload.title)
    duplicates = None
    if access.can_see_intake_duplicates(actor):
        # The place given, else the one suggested from the text.
        duplicates = similar_to_draft(
            payload.title, payload.text,
            district=payload.district or found.district.value,
            street=payload.street or found.street.value,
            latitude=payload.latitude, longitude=payload.longitude,
        )
    return {**found.as_dict(), "duplicates": [duplicate_out(d) for d in duplicates or []]}


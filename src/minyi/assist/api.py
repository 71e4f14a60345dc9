"""`POST /api/v1/assist/intake`: suggestions for a new request, for intake agents and dispatchers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from minyi.api.auth import StaffAuth, request_actor
from minyi.api.schemas import ErrorOut
from minyi.assist.suggest import suggest
from minyi.tickets import access

router = Router(tags=["assist"])

#: Who may ask for suggestions.


class IntakeIn(Schema):
    text: str = Field(min_length=1, max_length=5000)
    title: str = Field(default="", max_length=200)


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


@router.post(
    "/intake",
    response={200: IntakeSuggestionsOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    auth=StaffAuth(),
)
def intake(request: HttpRequest, payload: IntakeIn) -> Any:
    """Suggest the request type, category, lead unit, urgency, district and street for a
    request's text, each with a confidence and the words that drove it. Nothing is saved."""
    actor = request_actor(request)
    access.access_intake_suggestions(actor)
    return suggest(payload.text, payload.title).as_dict()


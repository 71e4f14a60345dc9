"""The REST API of the measures (考核指标): read-only."""

from __future__ import annotations

import re

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from minyi.api import schemas as s
from minyi.api.auth import StaffAuth, request_actor
from minyi.core.errors import InvalidInput
from minyi.insights.kpi import monthly
from minyi.org.models import Region
from minyi.tickets import access

router = Router(tags=["insights"])
staff = StaffAuth()


class KpiOut(Schema):
    month: str
    received: int = Field(description="Tickets submitted in the month")
    direct_answer_rate: float | None = Field(description="Of those, answered and closed by the platform (直接答复率)")
    replied: int = Field(description="Dispatched tickets replied in the month")
    on_time_rate: float | None = Field(description="Of those, replied by the deadline (按时办结率)")
    average_handling_days: float | None = Field(description="Dispatch to reply, in days")
    signed: int
    response_rate: float | None = Field(description="Signed for within the sign-for time (签收及时率)")
    resolution_rate: float | None = Field(description="Unit replies whose outcome counts as resolved (解决率)")
    rated: int
    satisfaction_rate: float | None = Field(description="Satisfied or basically satisfied, of ratings (满意率)")
    dissatisfied: int
    redos: int
    redo_rate: float | None = Field(description="Redos per rating (重办率)")
    supervision_orders: int


@router.get("/kpis", response={200: KpiOut, **s.ERRORS}, auth=staff)
def kpis(request: HttpRequest, month: str, unit_id: int | None = None, district: str | None = None):
    """A month's measures for the city, a unit or a district. A unit's staff see their own
    unit's only."""
    actor = request_actor(request)
    scope = access.access_unit_scope(actor, unit_id)
    if not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", month or ""):
        raise InvalidInput(_("Give the month as YYYY-MM."), "invalid_month", field="month")
    district_id = None
    if district:
        district_id = Region.objects.filter(kind=Region.Kind.DISTRICT).filter(code=district).values_list("pk", flat=True).first() \
            or Region.objects.filter(kind=Region.Kind.DISTRICT, name=district).values_list("pk", flat=True).first()
        if district_id is None:
            raise InvalidInput(_("Unknown district."), "invalid_district", field="district")
    return monthly(month, unit_id=scope, district_id=district_id)

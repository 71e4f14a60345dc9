"""Time limits in the admin: holiday notices and policies are data an administrator edits;
extensions and plans are records of decisions, read-only here (they change through
`minyi.sla.actions`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from minyi.sla import holidays
from minyi.sla.models import (
    Extension,
    ExtensionReason,
    HolidayDay,
    HolidayNotice,
    Milestone,
    StagedPlan,
    TimeLimitPolicy,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


# --- holiday notices ------------------------------------------------------------------------


class HolidayDayFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        year = self.instance.year
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            day = form.cleaned_data.get("date")
            if day is not None and year and day.year != year:
                form.add_error("date", ValidationError(
                    _("%(day)s is not in the notice's year %(year)s.") % {"day": day, "year": year}
                ))


class HolidayDayInline(admin.TabularInline):
    model = HolidayDay
    formset = HolidayDayFormSet
    fields = ("date", "name", "is_off_day")
    extra = 1
    ordering = ("date",)


@admin.register(HolidayNotice)
class HolidayNoticeAdmin(admin.ModelAdmin):
    """Saving or deleting a notice re-reads the calendar and re-counts every open provisional
    deadline (the same as `minyi holidays import`)."""

    list_display = ["year", "title", "days_off", "makeup_days", "loaded_at"]
    search_fields = ["year", "title"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["loaded_at"]
    inlines = [HolidayDayInline]

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).annotate(
            off=Count("days", filter=Q(days__is_off_day=True)),
            makeup=Count("days", filter=Q(days__is_off_day=False)),
        )

    @admin.display(description=_("days off"), ordering="off")
    def days_off(self, obj: Any) -> int:
        return obj.off

    @admin.display(description=_("make-up working days"), ordering="makeup")
    def makeup_days(self, obj: Any) -> int:
        return obj.makeup

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        # The notice and its days are saved by now (the admin runs all of it in one transaction).
        super().save_related(request, form, formsets, change)
        self._recount(request)

    def delete_model(self, request: Any, obj: Any) -> None:
        super().delete_model(request, obj)
        self._recount(request)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        self._recount(request)

    def _recount(self, request: Any) -> None:
        recounted = holidays.notices_changed()
        if recounted:
            self.message_user(
                request,
                ngettext(
                    "%(n)d provisional deadline was re-counted on the new calendar.",
                    "%(n)d provisional deadlines were re-counted on the new calendar.",
                    recounted,
                ) % {"n": recounted},
                messages.INFO,
            )


# --- policies and reasons -------------------------------------------------------------------


@admin.register(TimeLimitPolicy)
class TimeLimitPolicyAdmin(admin.ModelAdmin):
    """A changed limit applies to tickets taken in afterwards (each ticket keeps its own)."""

    list_display = ["request_type", "category", "working_days", "urgent_hours"]
    list_filter = ["request_type"]
    autocomplete_fields = ["category"]


@admin.register(ExtensionReason)
class ExtensionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "active"]
    list_editable = ["active"]


# --- decisions (read-only) ------------------------------------------------------------------


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "reason", "working_days", "status", "requested_at", "decided_at", "new_due_at"]
    list_filter = ["status", "reason"]
    list_select_related = ["ticket", "reason"]
    search_fields = ["ticket__number"]
    date_hierarchy = "requested_at"


class MilestoneInline(ReadOnlyInline):
    model = Milestone
    fields = ("seq", "title", "due_date", "done_at", "evidence")
    readonly_fields = fields


@admin.register(StagedPlan)
class StagedPlanAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "status", "requested_at", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["ticket"]
    search_fields = ["ticket__number"]
    inlines = [MilestoneInline]

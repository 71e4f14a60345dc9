"""Supervision in the admin: the escalation ladder is data an administrator edits; orders are
opened, escalated and closed by the deadline job and are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from minyi.supervision.models import SupervisionLevel, SupervisionOrder


@admin.register(SupervisionLevel)
class SupervisionLevelAdmin(admin.ModelAdmin):
    list_display = ["level", "code", "name", "response_working_days"]
    ordering = ["level"]


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(admin.ModelAdmin):
    list_display = ["ticket", "cause", "level", "status", "unit", "opened_at", "due_at", "closed_at"]
    list_filter = ["status", "cause", "level"]
    list_select_related = ["ticket", "unit"]
    search_fields = ["ticket__number"]
    date_hierarchy = "opened_at"

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

from django.contrib import admin

from minyi.privacy.models import Reveal


@admin.register(Reveal)
class RevealAdmin(admin.ModelAdmin):
    """The audit of reveals: read-only (rows are append-only)."""

    list_display = ["created_at", "ticket", "field", "user", "role", "granted", "refusal", "reason"]
    list_filter = ["granted", "field", "role"]
    search_fields = ["ticket__number", "user__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

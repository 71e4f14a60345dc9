"""Tickets are read-only in the admin: state changes go through the actions, never here."""

from django.contrib import admin

from minyi.tickets.models import ReturnReason, Ticket, TicketEvent


@admin.register(ReturnReason)
class ReturnReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "requires_legal_basis", "active"]
    list_editable = ["requires_legal_basis", "active"]


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    fields = ("created_at", "kind", "actor_label", "actor_role", "from_status", "to_status", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "type", "status", "lead_unit", "district", "created_at", "due_at"]
    list_filter = ["status", "type", "channel", "urgent", "district"]
    search_fields = ["number", "title"]
    date_hierarchy = "created_at"
    inlines = [TicketEventInline]
    list_select_related = ["lead_unit", "district"]
    exclude = ["requester_name", "requester_phone", "enterprise_credit_code"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

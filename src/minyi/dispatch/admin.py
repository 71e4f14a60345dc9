from django.contrib import admin

from minyi.dispatch.models import RoutingRule


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "district", "street", "lead_unit", "priority", "active"]
    list_editable = ["priority", "active"]
    list_filter = ["active", "district"]
    list_select_related = ["category", "district", "street", "lead_unit"]
    filter_horizontal = ["assisting_units"]
    search_fields = ["category__name", "lead_unit__name", "note"]

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from minyi.org.models import ApiToken, Category, Region, StaffProfile, Unit


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "region", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["parent", "region"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "default_type", "default_unit", "active"]
    list_filter = ["level", "default_type", "active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent", "default_unit"]


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    autocomplete_fields = ["unit"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]
    list_display = ["username", "staff_name", "staff_unit", "is_active"]
    list_filter = ["groups", "is_active", "staff_profile__unit__kind"]

    @admin.display(description="姓名")
    def staff_name(self, user):
        profile = getattr(user, "staff_profile", None)
        return profile.display_name if profile else ""

    @admin.display(description="单位")
    def staff_unit(self, user):
        profile = getattr(user, "staff_profile", None)
        return profile.unit if profile and profile.unit else ""


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "expires_at"]
    readonly_fields = ["key_hash", "user", "created_at", "expires_at"]

    def has_add_permission(self, request):
        return False

"""Virtual numbers in the admin: the pool (with adding numbers in bulk) and the handlers' lines
are data the administrator keeps; bindings and calls are read-only, numbers masked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from minyi.calls.models import LOCAL, Binding, CallRecord, HandlerLine, VirtualNumber
from minyi.calls.numbers import normalise_number
from minyi.privacy.policy import mask_phone

#: At most this many numbers in one bulk addition.
BULK_MAX = 2000


def clean_number(value: str) -> str:
    number = normalise_number(value)
    if not 5 <= len(number) <= 20:
        raise forms.ValidationError(_("Enter a telephone number (5 to 20 digits)."))
    return number


def parse_numbers(text: str) -> list[str]:
    """Numbers one per line (or separated by commas); ``first-last`` is a range of numbers of the
    same length, e.g. ``075512340000-075512340099`` (``0755-1234 0000`` is one number)."""
    found: list[str] = []
    for item in (part.strip() for line in text.splitlines() for part in line.split(",")):
        if not item:
            continue
        first, sep, last = (p.strip() for p in item.partition("-"))
        if sep and first.isdigit() and last.isdigit() and len(first) == len(last) >= 5:
            if int(last) < int(first):
                raise forms.ValidationError(_("“%(item)s” is not a range of numbers of one length.") % {"item": item})
            if int(last) - int(first) + 1 + len(found) > BULK_MAX:
                raise forms.ValidationError(_("At most %(n)d numbers at a time.") % {"n": BULK_MAX})
            found += [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]
        else:
            found.append(clean_number(item))
        if len(found) > BULK_MAX:
            raise forms.ValidationError(_("At most %(n)d numbers at a time.") % {"n": BULK_MAX})
    if not found:
        raise forms.ValidationError(_("Enter at least one number."))
    return list(dict.fromkeys(found))


class BulkAddForm(forms.Form):
    numbers = forms.CharField(
        label=_lazy("numbers"), widget=forms.Textarea(attrs={"rows": 10, "cols": 40}),
        help_text=_lazy("One per line; a range as first-last (same length), e.g. 075512340000-075512340099."),
    )
    provider = forms.CharField(
        label=_lazy("provider"), max_length=32, initial=LOCAL,
        help_text=_lazy("“local” for the platform's own pool (SIP redirect server), or the carrier's name."),
    )
    notes = forms.CharField(label=_lazy("notes"), max_length=200, required=False)

    def clean_numbers(self) -> list[str]:
        return parse_numbers(self.cleaned_data["numbers"])


class VirtualNumberForm(forms.ModelForm):
    class Meta:
        model = VirtualNumber
        fields = ["number", "provider", "active", "notes"]

    def clean_number(self) -> str:
        return clean_number(self.cleaned_data["number"])


@admin.register(VirtualNumber)
class VirtualNumberAdmin(admin.ModelAdmin):
    form = VirtualNumberForm
    list_display = ["number", "provider", "active", "live_bindings", "notes", "created_at"]
    list_filter = ["active", "provider"]
    search_fields = ["number", "notes"]
    actions = ["activate", "deactivate"]
    change_list_template = "admin/calls/virtualnumber/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[VirtualNumber]:
        return super().get_queryset(request).annotate(
            live=Count("bindings", filter=Q(bindings__active=True))
        )

    @admin.display(description=_lazy("active bindings"), ordering="live")
    def live_bindings(self, obj: Any) -> int:
        return obj.live

    @admin.action(description=_lazy("Activate the selected numbers"))
    def activate(self, request: HttpRequest, queryset: QuerySet[VirtualNumber]) -> None:
        queryset.update(active=True)

    @admin.action(description=_lazy("Deactivate the selected numbers (current bindings run out)"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[VirtualNumber]) -> None:
        queryset.update(active=False)

    def get_urls(self) -> list:
        bulk = path("bulk-add/", self.admin_site.admin_view(self.bulk_add), name="calls_virtualnumber_bulk_add")
        return [bulk, *super().get_urls()]

    def bulk_add(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:calls_virtualnumber_changelist"))
        form = BulkAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            numbers = form.cleaned_data["numbers"]
            existing = set(VirtualNumber.objects.filter(number__in=numbers).values_list("number", flat=True))
            VirtualNumber.objects.bulk_create(
                [
                    VirtualNumber(number=n, provider=form.cleaned_data["provider"], notes=form.cleaned_data["notes"])
                    for n in numbers if n not in existing
                ],
                ignore_conflicts=True,
            )
            messages.success(
                request,
                _("%(added)d numbers added, %(skipped)d already in the pool.")
                % {"added": len(numbers) - len(existing), "skipped": len(existing)},
            )
            return HttpResponseRedirect(reverse("admin:calls_virtualnumber_changelist"))
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
            "title": _("Add virtual numbers in bulk"),
        }
        return TemplateResponse(request, "admin/calls/virtualnumber/bulk_add.html", context)


class HandlerLineForm(forms.ModelForm):
    class Meta:
        model = HandlerLine
        fields = ["user", "phone"]

    def clean_phone(self) -> str:
        return clean_number(self.cleaned_data["phone"])


@admin.register(HandlerLine)
class HandlerLineAdmin(admin.ModelAdmin):
    form = HandlerLineForm
    list_display = ["user", "masked_phone", "updated_at"]
    search_fields = ["user__username", "user__staff_profile__display_name"]
    autocomplete_fields = ["user"]

    @admin.display(description=_lazy("phone"))
    def masked_phone(self, obj: HandlerLine) -> str:
        return mask_phone(obj.phone)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Binding)
class BindingAdmin(ReadOnlyAdmin):
    list_display = [
        "ticket", "number", "masked_a", "masked_b", "handler", "active", "created_at", "expires_at", "ended_at",
        "end_reason",
    ]
    list_filter = ["active", "end_reason", "provider"]
    list_select_related = ["ticket", "number", "handler"]
    search_fields = ["ticket__number", "number__number"]
    date_hierarchy = "created_at"
    # The parties appear masked only, in the list and on the detail page.
    fields = readonly_fields = (
        "ticket", "number", "masked_a", "masked_b", "handler", "handler_role", "unit", "provider", "provider_ref",
        "active", "created_at", "expires_at", "ended_at", "end_reason",
    )

    @admin.display(description=_lazy("requester's number (A)"))
    def masked_a(self, obj: Binding) -> str:
        return mask_phone(obj.party_a)

    @admin.display(description=_lazy("handler's number (B)"))
    def masked_b(self, obj: Binding) -> str:
        return mask_phone(obj.party_b)


@admin.register(CallRecord)
class CallRecordAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "direction", "caller_role", "result", "started_at", "ended_at", "duration_seconds"]
    list_filter = ["direction", "result"]
    list_select_related = ["ticket"]
    search_fields = ["ticket__number"]
    date_hierarchy = "started_at"
    exclude = ["call_ref"]

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import Membership, Team
from audit.record import record


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        record("team.update" if change else "team.create", request=request, team=obj, target=obj.name, via="admin")

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Audit membership edits made inline on the team page, like the app's own pages do.
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            record("member.remove", request=request, team=membership.team, target=str(membership.user), via="admin")
            membership.delete()
        for membership in instances:
            action = "member.role" if membership.pk else "member.add"
            membership.save()
            record(
                action,
                request=request,
                team=membership.team,
                target=str(membership.user),
                role=membership.role,
                via="admin",
            )
        formset.save_m2m()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        record(
            "member.role" if change else "member.add",
            request=request,
            team=obj.team,
            target=str(obj.user),
            role=obj.role,
            via="admin",
        )

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        record("member.remove", request=request, team=obj.team, target=str(obj.user), via="admin")
        super().delete_model(request, obj)

from django.contrib import admin

from accounts.models import ConnectionGrant, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]


@admin.register(ConnectionGrant)
class ConnectionGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "connection", "role"]
    list_filter = ["role"]

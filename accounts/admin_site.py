"""The Django admin, behind the same second-factor rule as the rest of dbdeck."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class DbdeckAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        # Imported here: this module loads with the app registry, before models may be imported.
        from accounts.twofactor import second_factor_ok

        # The middleware redirects first; this holds even if a path were ever exempted by mistake.
        return super().has_permission(request) and second_factor_ok(request)


class DbdeckAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.DbdeckAdminSite"

from django.contrib import admin
from django.http import HttpRequest

from explorer.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    """Exports are records of what left the databases: visible, never edited here."""

    list_display = ["created_at", "user", "connection", "obj", "format", "status", "rows_written"]
    list_filter = ["status", "format"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

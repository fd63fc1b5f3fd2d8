from django.contrib import admin

from backups.models import Artifact, BackupPlan, BackupRun, Destination, RestoreTest


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "kind", "folder", "bucket", "prefix"]
    list_filter = ["kind", "team"]


@admin.register(BackupPlan)
class BackupPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "connection", "cron", "timezone", "destination", "encrypt", "enabled"]
    list_filter = ["enabled", "encrypt"]
    search_fields = ["name", "connection__name"]


@admin.register(BackupRun)
class BackupRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "plan", "status", "trigger", "started_by", "bytes_read", "bytes_written", "created_at"]
    list_filter = ["status", "trigger"]
    readonly_fields = [f.name for f in BackupRun._meta.fields]


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["pk", "plan", "destination", "size", "key_id", "created_at", "deleted_at"]
    readonly_fields = [f.name for f in Artifact._meta.fields]


@admin.register(RestoreTest)
class RestoreTestAdmin(admin.ModelAdmin):
    list_display = ["pk", "plan", "status", "rto_seconds", "sandbox", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in RestoreTest._meta.fields]

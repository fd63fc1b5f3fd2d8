from django.urls import path

from explorer.console.urls import urlpatterns as console_urls
from explorer.views import exports, home, indexes, keys, navigator, objects, plans, records

app_name = "explorer"
urlpatterns = [
    path("explorer/", home.index, name="index"),
    path("connections/<id:pk>/browse/", navigator.browse, name="browse"),
    path("connections/<id:pk>/browse/count/", navigator.count, name="count"),
    path("connections/<id:pk>/browse/row/", records.record_detail, name="record"),
    path("connections/<id:pk>/browse/row/delete/", records.record_delete, name="record_delete"),
    path("connections/<id:pk>/browse/row/new/", records.record_new, name="record_new"),
    path("connections/<id:pk>/browse/key/", keys.key_detail, name="key"),
    path("connections/<id:pk>/browse/key/edit/", keys.key_edit, name="key_edit"),
    path("connections/<id:pk>/browse/object/", objects.object_detail, name="object"),
    path("connections/<id:pk>/browse/object/download/", objects.object_download, name="object_download"),
    path("connections/<id:pk>/browse/object/presign/", objects.object_presign, name="object_presign"),
    path("connections/<id:pk>/browse/object/upload/", objects.object_upload, name="object_upload"),
    path("connections/<id:pk>/browse/object/delete/", objects.object_delete, name="object_delete"),
    path("connections/<id:pk>/browse/export/", exports.export_start, name="export"),
    path("connections/<id:pk>/exports/<id:export_pk>/", exports.export_status, name="export_status"),
    path("connections/<id:pk>/exports/<id:export_pk>/download/", exports.export_download, name="export_download"),
    # EXPLAIN, saved plans, index tools and partitions (explorer/views/plans.py, indexes.py)
    path("connections/<id:pk>/explain/", plans.explain, name="explain"),
    path("connections/<id:pk>/plans/compare/", plans.plan_compare, name="plan_compare"),
    path("connections/<id:pk>/plans/<uuid:token>/", plans.plan_detail, name="plan"),
    path("connections/<id:pk>/plans/<uuid:token>/raw/", plans.plan_raw, name="plan_raw"),
    path("connections/<id:pk>/indexes/", indexes.index_list, name="indexes"),
    path("connections/<id:pk>/indexes/findings/", indexes.index_findings, name="index_findings"),
    path("connections/<id:pk>/indexes/advice/", indexes.index_advice, name="index_advice"),
    path("connections/<id:pk>/indexes/create/", indexes.index_create, name="index_create"),
    path("connections/<id:pk>/indexes/drop/", indexes.index_drop, name="index_drop"),
    path("connections/<id:pk>/indexes/jobs/<id:job_pk>/", indexes.index_job, name="index_job"),
    path("connections/<id:pk>/partitions/", indexes.partitions, name="partitions"),
]
urlpatterns += console_urls

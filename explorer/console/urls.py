from django.urls import path

from explorer.console import views

app_name = "explorer"
urlpatterns = [
    path("connections/<id:pk>/console/", views.console, name="console"),
    path("connections/<id:pk>/console/run/", views.console_run, name="console_run"),
    path("connections/<id:pk>/console/runs/<id:run_pk>/", views.console_run_status, name="console_run_status"),
    path("connections/<id:pk>/console/runs/<id:run_pk>/cancel/", views.console_cancel, name="console_cancel"),
    path("connections/<id:pk>/console/results/<id:result_pk>/more/", views.console_more, name="console_more"),
    path("connections/<id:pk>/console/results/<id:result_pk>/export/", views.console_export, name="console_export"),
    path("connections/<id:pk>/console/transaction/", views.console_transaction, name="console_transaction"),
    path("connections/<id:pk>/console/history/", views.console_history, name="console_history"),
    path("connections/<id:pk>/console/saved/", views.console_saved, name="console_saved"),
    path(
        "connections/<id:pk>/console/saved/<id:saved_pk>/delete/",
        views.console_saved_delete,
        name="console_saved_delete",
    ),
]

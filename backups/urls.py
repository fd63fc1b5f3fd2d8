from django.urls import path

from backups import views

app_name = "backups"
urlpatterns = [
    path("", views.index, name="index"),
    path("plans/new/", views.plan_form, name="plan_create"),
    path("plans/<id:pk>/", views.plan_detail, name="plan"),
    path("plans/<id:pk>/edit/", views.plan_form, name="plan_edit"),
    path("plans/<id:pk>/run/", views.run_now, name="run_now"),
    path("plans/<id:pk>/restore-test/", views.restore_test_now, name="restore_test_now"),
    path("runs/<id:pk>/", views.run_detail, name="run"),
    path("runs/<id:pk>/cancel/", views.run_cancel, name="run_cancel"),
    path("restore-tests/<id:pk>/", views.restore_test_detail, name="restore_test"),
    path("destinations/new/", views.destination_form, name="destination_create"),
    path("artifacts/<id:pk>/restore/", views.artifact_restore, name="artifact_restore"),
]

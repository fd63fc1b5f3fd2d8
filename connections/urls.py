from django.urls import path

from connections import views

app_name = "connections"
urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new/", views.connection_create, name="create"),
    path("<id:pk>/", views.connection_detail, name="detail"),
    path("<id:pk>/edit/", views.connection_edit, name="edit"),
    path("<id:pk>/test/", views.connection_test, name="test"),
    path("<id:pk>/delete/", views.connection_delete, name="delete"),
    path("<id:pk>/move/", views.connection_move, name="move"),
    path("<id:pk>/grants/", views.connection_grant, name="grant"),
]

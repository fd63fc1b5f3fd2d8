from django.urls import path

from connections import views

app_name = "connections"
urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new/", views.connection_create, name="create"),
    path("<int:pk>/", views.connection_detail, name="detail"),
    path("<int:pk>/edit/", views.connection_edit, name="edit"),
    path("<int:pk>/test/", views.connection_test, name="test"),
    path("<int:pk>/delete/", views.connection_delete, name="delete"),
    path("<int:pk>/move/", views.connection_move, name="move"),
    path("<int:pk>/grants/", views.connection_grant, name="grant"),
]

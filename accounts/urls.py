from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.team_list, name="teams"),
    path("new/", views.team_create, name="team_create"),
    path("<int:pk>/", views.team_detail, name="team"),
    path("<int:pk>/members/", views.member_add, name="member_add"),
    path("<int:pk>/members/<int:member_pk>/role/", views.member_role, name="member_role"),
    path("<int:pk>/members/<int:member_pk>/remove/", views.member_remove, name="member_remove"),
]

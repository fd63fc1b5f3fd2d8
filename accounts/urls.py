from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.team_list, name="teams"),
    path("new/", views.team_create, name="team_create"),
    path("<id:pk>/", views.team_detail, name="team"),
    path("<id:pk>/members/", views.member_add, name="member_add"),
    path("<id:pk>/members/<id:member_pk>/role/", views.member_role, name="member_role"),
    path("<id:pk>/members/<id:member_pk>/remove/", views.member_remove, name="member_remove"),
]

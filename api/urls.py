from django.urls import path, re_path

from api import views
from api.v1 import api, not_found

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", not_found),
    path("account/tokens/", views.token_list, name="tokens"),
    path("account/tokens/<id:pk>/revoke/", views.token_revoke, name="token_revoke"),
]

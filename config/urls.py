from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from config.health import healthz

admin.site.site_header = "dbdeck administration"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="connections:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("connections/", include("connections.urls")),
    path("teams/", include("accounts.urls")),
    path("", include("explorer.urls")),
    path("backups/", include("backups.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
]

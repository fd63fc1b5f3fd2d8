from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import enrol, login, oidc
from config.health import healthz

admin.site.site_header = "dbdeck administration"


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says; send them to the real icon."""
    return redirect(static("img/favicon.svg"), permanent=True)


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="connections:list", permanent=False)),
    path("login/", login.login_page, name="login"),
    path("login/code/", login.login_code, name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/2fa/", enrol.twofactor, name="twofactor"),
    path("account/2fa/qr.svg", enrol.twofactor_qr, name="twofactor_qr"),
    path("account/2fa/confirm/", enrol.twofactor_confirm, name="twofactor_confirm"),
    path("account/2fa/recovery/", enrol.twofactor_recovery, name="twofactor_recovery"),
    path("account/2fa/disable/", enrol.twofactor_disable, name="twofactor_disable"),
    # Answer 404 unless single sign-on is configured (accounts/oidc.py).
    path("oidc/authenticate/", oidc.oidc_start, name="oidc_authentication_init"),
    path("oidc/callback/", oidc.oidc_callback, name="oidc_authentication_callback"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("connections/", include("connections.urls")),
    path("teams/", include("accounts.urls")),
    path("", include("explorer.urls")),
    path("backups/", include("backups.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("audit/", include("audit.urls")),
    path("", include("api.urls")),
    path("admin/", admin.site.urls),
]

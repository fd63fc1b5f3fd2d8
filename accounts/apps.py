from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Teams and roles"

    def ready(self) -> None:
        # Connects the login, logout and lockout receivers that write the audit trail.
        from accounts import login_audit, sessions  # noqa: F401

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Teams and roles"

    def ready(self) -> None:
        # `<id:pk>` in every URL: ids past 2**63-1 are a 404, not an overflow in the driver.
        from config.converters import register

        register()

        # Connects the login, logout and lockout receivers that write the audit trail.
        from accounts import login_audit, sessions  # noqa: F401

from django.apps import AppConfig
from django.core import checks


class ConnectionsConfig(AppConfig):
    name = "connections"

    def ready(self) -> None:
        from connections import signals  # noqa: F401
        from connections.checks import engines_match_registry

        checks.register(engines_match_registry, checks.Tags.models)

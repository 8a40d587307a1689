from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every other app stands on: domain errors, the read audit, request safety (NUL bytes,
    idempotent creation), the client's address. Imports no other app of the project."""

    name = "core"
    verbose_name = "基础"

"""Each engine describes itself (form fields, labels, defaults, validation, capabilities) from its own package."""

from __future__ import annotations

import json
import re
from importlib import import_module

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from connections.engines import ENGINES, adapter_class
from connections.forms import ConnectionForm
from connections.models import Connection
from tests.fixtures import People, client_for

STUB = "tests.connections.engine_stub.StubAdapter"


def defined_in(cls: type, attribute: str) -> str:
    """The module of the class in `cls`'s MRO that defines `attribute`."""
    owner = next(c for c in cls.__mro__ if attribute in vars(c))
    return owner.__module__


@pytest.mark.parametrize("engine", list(ENGINES))
def test_every_engine_describes_itself_from_its_own_package(engine: str) -> None:
    package = f"connections.engines.{engine}."
    cls = adapter_class(engine)
    assert cls.__module__ == package + "adapter" and cls.engine == engine
    for attribute in ("display_name", "form_fields", "default_port", "default_tls", "capabilities"):
        assert defined_in(cls, attribute).startswith(package), attribute
    for contract, dotted in cls.capabilities.items():
        assert dotted.startswith(package), dotted
        module_name, _, name = dotted.rpartition(".")
        implementation = getattr(import_module(module_name), name)
        assert issubclass(implementation, contract) and implementation.__module__.startswith(package)


def test_the_form_shows_each_engine_what_its_adapter_describes() -> None:
    described = ConnectionForm().engine_forms()
    sqlite, mongodb, s3 = (described["engines"][e] for e in ("sqlite", "mongodb", "s3"))
    assert sqlite["fields"] == ["database"] and sqlite["labels"] == {"database": "File path"}
    assert sqlite["default_port"] is None
    assert {"host", "secret", "tls_mode", "auth_source", "replica_set"} <= set(mongodb["fields"])
    assert "region" not in mongodb["fields"] and {"region", "addressing_style"} <= set(s3["fields"])
    assert described["engines"]["postgresql"]["default_port"] == 5432
    # What a relabelled field goes back to; a setting's label lands on its first form field.
    assert described["labels"] == {
        "database": "Database",
        "host": "Host",
        "secret": "Password / secret key",
        "username": "User / access key",
    }
    assert described["engines"]["gcs"]["labels"]["secret"] == "Service-account JSON key"
    assert described["engines"]["azure"]["labels"]["username"] == "Storage account name"
    assert {"host", "port", "secret", "region", "auth_source"} <= set(described["fields"])


def test_the_page_script_reads_the_description_from_the_page(people: People) -> None:
    body = client_for(people.alice).get(reverse("connections:create")).content.decode()
    found = re.search(r'<script id="engine-forms" type="application/json">(.*?)</script>', body, re.S)
    assert found is not None
    described = json.loads(found.group(1))
    assert described["engines"]["redis"]["labels"] == {"database": "Database index"}
    assert 'placeholder="5432"' in body  # the default engine's default port


def test_a_registered_engine_brings_its_form_description_and_validation(
    monkeypatch: pytest.MonkeyPatch, people: People
) -> None:
    monkeypatch.setitem(ENGINES, "stub", STUB)
    form = ConnectionForm(initial={"engine": "stub"})
    assert ("stub", "Stub store") in form.fields["engine"].choices
    assert form.engine_forms()["engines"]["stub"] == {
        "fields": ["host", "port", "database"],
        "labels": {"database": "Shelf"},
        "default_port": 4242,
        "default_tls": "require",
    }
    assert form.initial["tls_mode"] == "require" and form.fields["port"].widget.attrs["placeholder"] == "4242"
    connection = Connection(team=people.acme, name="Stub", engine="stub", host="", database="forbidden")
    with pytest.raises(ValidationError) as refused:
        connection.full_clean()
    assert refused.value.message_dict["host"] == ["Stub store needs a host."]
    assert refused.value.message_dict["database"] == ["A stub shelf is never called forbidden."]


def test_the_model_asks_the_adapter_which_settings_apply(people: People) -> None:
    redis = Connection(team=people.acme, name="R", engine="redis", host="127.0.0.1", database="zero")
    with pytest.raises(ValidationError) as refused:
        redis.full_clean()
    assert refused.value.message_dict["database"] == ["A Redis database is a number (0 to 15 on a default server)."]
    mongo = Connection(team=people.acme, name="M", engine="mongodb", host="127.0.0.1", options={"region": "eu"})
    with pytest.raises(ValidationError) as refused:
        mongo.full_clean()
    assert refused.value.message_dict["options"] == ["Unsupported options: region"]
    s3 = Connection(team=people.acme, name="S", engine="s3", host="127.0.0.1", options={"region": "eu-west-1"})
    assert s3.params().extra == {"region": "eu-west-1"}

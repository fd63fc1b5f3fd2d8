"""The compiler-free session and user lookups behave exactly as Django's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.fastpath import SessionStore, UserBackend

pytestmark = pytest.mark.django_db


def test_a_session_reads_back_what_django_wrote() -> None:
    django_store = DjangoStore()
    django_store["who"] = "<script>'\"` ünïcode"
    django_store.create()
    django_store["who"] = django_store["who"]
    django_store.save()
    assert SessionStore(django_store.session_key).load() == DjangoStore(django_store.session_key).load()
    assert SessionStore(django_store.session_key).load()["who"] == "<script>'\"` ünïcode"


def test_an_expired_or_unknown_session_is_empty_and_loses_its_key() -> None:
    store = SessionStore()
    store["x"] = 1
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    unknown = SessionStore("a" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_the_user_is_the_one_the_orm_reads() -> None:
    user = User.objects.create_user("fast", email="f@example.com", password="x", first_name="Ünï")
    user.last_login = timezone.now()
    user.save()
    fast = UserBackend().get_user(user.pk)
    orm = User.objects.get(pk=user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    assert fast._state.db == "default" and not fast._state.adding


def test_inactive_missing_and_malformed_users_are_nobody() -> None:
    user = User.objects.create_user("gone", password="x", is_active=False)
    assert UserBackend().get_user(user.pk) is None
    assert UserBackend().get_user(10**12) is None
    assert UserBackend().get_user("not a number") is None

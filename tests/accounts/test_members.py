from __future__ import annotations

from django.urls import reverse

from accounts.models import Membership, Role
from audit.models import AuditEvent
from tests.fixtures import People, client_for


def test_an_admin_adds_a_member_and_it_is_audited(people: People) -> None:
    from django.contrib.auth.models import User

    User.objects.create_user("dave")
    client_for(people.alice).post(
        reverse("accounts:member_add", args=[people.acme.pk]), {"username": "dave", "role": "editor"}
    )
    assert Membership.objects.get(user__username="dave").role == Role.EDITOR
    event = AuditEvent.objects.get(action="member.add")
    assert (event.actor, event.team, event.target) == (people.alice, people.acme, "dave")


def test_adding_an_unknown_user_says_so(people: People) -> None:
    response = client_for(people.alice).post(
        reverse("accounts:member_add", args=[people.acme.pk]),
        {"username": "nobody<script>", "role": "viewer"},
        follow=True,
    )
    assert b"No user has that username" in response.content
    assert b"<script>" not in response.content


def test_changing_a_role_records_before_and_after(people: People) -> None:
    member = Membership.objects.get(user=people.carol)
    client_for(people.alice).post(reverse("accounts:member_role", args=[people.acme.pk, member.pk]), {"role": "editor"})
    member.refresh_from_db()
    assert member.role == Role.EDITOR
    assert AuditEvent.objects.get(action="member.role").detail == {"before": "viewer", "after": "editor"}


def test_the_last_admin_cannot_be_demoted_or_removed(people: People) -> None:
    member = Membership.objects.get(user=people.alice)
    client = client_for(people.alice)
    client.post(reverse("accounts:member_role", args=[people.acme.pk, member.pk]), {"role": "viewer"})
    client.post(reverse("accounts:member_remove", args=[people.acme.pk, member.pk]))
    member.refresh_from_db()
    assert member.role == Role.ADMIN


def test_removing_a_member_drops_their_grants_and_is_audited(people: People) -> None:
    member = Membership.objects.get(user=people.bob)
    client_for(people.alice).post(reverse("accounts:member_remove", args=[people.acme.pk, member.pk]))
    assert not Membership.objects.filter(user=people.bob).exists()
    assert AuditEvent.objects.filter(action="member.remove", target="bob").exists()


def test_only_superusers_create_teams(people: People) -> None:
    assert client_for(people.alice).post(reverse("accounts:team_create"), {"name": "New"}).status_code == 302
    assert not people.acme.__class__.objects.filter(name="New").exists()
    people.alice.is_superuser = True
    people.alice.save()
    client_for(people.alice).post(reverse("accounts:team_create"), {"name": "New"})
    assert Membership.objects.get(team__name="New").user == people.alice

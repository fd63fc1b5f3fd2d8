"""Walk every URL as anonymous, as another team's admin, and as each role."""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Role
from connections.access import get_connection_for
from connections.models import Connection, ConnectionGrant
from tests.fixtures import People, client_for


def connection_pages(pk: int) -> list[str]:
    """Pages of one SQLite connection (its file holds table t with row id 1)."""
    from connections.engines import cursor

    names = (
        "connections:detail",
        "connections:edit",
        "connections:delete",
        "explorer:browse",
        "explorer:count",
        "explorer:record",
        "explorer:record_new",
        "explorer:export",
        "explorer:explain",
        "explorer:indexes",
        "explorer:index_findings",
        "explorer:index_advice",
        "monitoring:connection",
        "monitoring:sessions",
        "monitoring:alerts",
        "explorer:console",
        "explorer:console_history",
        "explorer:console_saved",
    )
    query = "?" + urlencode({"ns": "main", "obj": "t", "key": cursor.encode({"id": 1})})
    return [reverse(n, args=[pk]) + query for n in names]


def other_style_pages(pk: int) -> list[str]:
    names = ("explorer:key", "explorer:object", "explorer:object_download", "explorer:partitions")
    return [reverse(n, args=[pk]) + "?ns=0&key=k" for n in names]


def app_pages() -> list[str]:
    names = [
        "connections:list",
        "connections:create",
        "accounts:teams",
        "audit:list",
        "explorer:index",
        "backups:index",
        "monitoring:index",
    ]
    return [reverse(n) for n in names]


def account_pages() -> list[str]:
    """The signed-in person's own pages: two-factor enrolment, its QR code, the login's code step, API tokens."""
    return [reverse(n) for n in ("twofactor", "twofactor_qr", "login_code", "tokens")]


def account_actions() -> list[tuple[str, dict[str, str]]]:
    return [
        (reverse("twofactor_confirm"), {"token": "123456"}),
        (reverse("twofactor_recovery"), {}),
        (reverse("twofactor_disable"), {}),
    ]


def post_actions(conn: Connection, people: People) -> list[tuple[str, dict[str, str]]]:
    member = Membership.objects.get(user=people.carol)
    team = people.acme.pk
    return [
        (reverse("connections:test", args=[conn.pk]), {}),
        (reverse("connections:grant", args=[conn.pk]), {"username": "carol", "role": "editor"}),
        (reverse("connections:delete", args=[conn.pk]), {}),
        (reverse("connections:edit", args=[conn.pk]), {}),
        (reverse("accounts:member_add", args=[team]), {"username": "charlie", "role": "viewer"}),
        (reverse("accounts:member_role", args=[team, member.pk]), {"role": "admin"}),
        (reverse("accounts:member_remove", args=[team, member.pk]), {}),
        (reverse("monitoring:settings", args=[conn.pk]), {"interval_s": "30"}),
        (reverse("monitoring:session_action", args=[conn.pk]), {"session": "1", "action": "cancel"}),
        (reverse("monitoring:profiling", args=[conn.pk]), {"level": "1", "slow_ms": "100"}),
        (reverse("monitoring:rule_save", args=[conn.pk]), {"kind": "blocked_sessions", "threshold": "1"}),
        (reverse("monitoring:rule_silence", args=[conn.pk]), {"kind": "blocked_sessions", "hours": "1"}),
    ]


def explorer_writes(conn: Connection) -> list[tuple[str, dict[str, str]]]:
    from connections.engines import cursor

    return [
        (reverse("explorer:record_delete", args=[conn.pk]) + "?ns=main&obj=t", {"key": cursor.encode({"id": 1})}),
        (
            reverse("explorer:record", args=[conn.pk]) + "?ns=main&obj=t",
            {"key": cursor.encode({"id": 1}), "v:name": "y"},
        ),
        (reverse("explorer:record_new", args=[conn.pk]) + "?ns=main&obj=t", {"v:name": "z"}),
        (reverse("explorer:key_edit", args=[conn.pk]), {"ns": "0", "key": "k", "action": "delete"}),
        (reverse("explorer:object_delete", args=[conn.pk]), {"ns": "b", "key": "k"}),
        (reverse("explorer:object_upload", args=[conn.pk]), {"ns": "b"}),
        (reverse("explorer:index_create", args=[conn.pk]), {"ns": "main", "obj": "t", "col": "name"}),
        (reverse("explorer:index_drop", args=[conn.pk]), {"ns": "main", "obj": "t", "name": "x"}),
        (reverse("monitoring:alert_ack", args=[conn.pk, 1]), {}),
    ]


def test_anonymous_visitors_are_sent_to_login_everywhere(acme_sqlite: Connection, people: People) -> None:
    client = client_for(None)
    pages = [*app_pages(), *account_pages(), *connection_pages(acme_sqlite.pk), *other_style_pages(acme_sqlite.pk)]
    for url in [*pages, reverse("accounts:team", args=[people.acme.pk])]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    for url, data in [*post_actions(acme_sqlite, people), *explorer_writes(acme_sqlite), *account_actions()]:
        response = client.post(url, data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    assert Connection.objects.filter(pk=acme_sqlite.pk).exists()


def test_another_teams_admin_gets_404_for_every_object(acme_sqlite: Connection, people: People) -> None:
    client = client_for(people.charlie)
    pages = [*connection_pages(acme_sqlite.pk), *other_style_pages(acme_sqlite.pk)]
    for url in [*pages, reverse("accounts:team", args=[people.acme.pk])]:
        assert client.get(url).status_code == 404, url
    for url, data in [*post_actions(acme_sqlite, people), *explorer_writes(acme_sqlite)]:
        assert client.post(url, data).status_code == 404, url
    assert Connection.objects.filter(pk=acme_sqlite.pk).exists()
    assert Membership.objects.get(user=people.carol).role == Role.VIEWER
    assert acme_sqlite.name.encode() not in client.get(reverse("connections:list")).content


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "charlie"])
def test_every_role_reaches_its_own_two_factor_pages(who: str, people: People) -> None:
    user = getattr(people, who)
    client = client_for(user)
    pages = {url: client.get(url) for url in account_pages()}
    for url, response in pages.items():
        assert response.status_code == 200, url
    device = TOTPDevice.objects.get(user=user, confirmed=False)  # the enrolment page made this person's own
    assert b32encode(device.bin_key).decode() in pages[reverse("twofactor")].content.decode()
    assert pages[reverse("twofactor_qr")]["Content-Type"] == "image/svg+xml"


def test_two_factor_actions_touch_only_the_signed_in_persons_devices(people: People) -> None:
    phone = TOTPDevice.objects.create(user=people.alice, name="phone", confirmed=True)
    codes = StaticDevice.objects.create(user=people.alice, name="Recovery codes", confirmed=True)
    codes.token_set.create(token="alicecode")
    for who in (people.bob, people.carol, people.charlie):
        client = client_for(who)
        for url, data in account_actions():
            assert client.post(url, data).status_code in (200, 302), url
    assert TOTPDevice.objects.filter(pk=phone.pk, confirmed=True).exists()
    assert list(StaticToken.objects.filter(device__user=people.alice).values_list("token", flat=True)) == ["alicecode"]
    assert not TOTPDevice.objects.filter(user__in=[people.bob, people.carol, people.charlie], confirmed=True).exists()


def test_a_missing_connection_looks_the_same_as_a_foreign_one(people: People) -> None:
    assert client_for(people.alice).get(reverse("connections:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_editors_and_viewers_can_look_and_test_but_not_administer(
    who: str, acme_sqlite: Connection, people: People
) -> None:
    client = client_for(getattr(people, who))
    assert client.get(reverse("connections:detail", args=[acme_sqlite.pk])).status_code == 200
    assert client.get(reverse("connections:list")).status_code == 200
    assert client.get(reverse("accounts:team", args=[people.acme.pk])).status_code == 200
    for url in [
        reverse("connections:edit", args=[acme_sqlite.pk]),
        reverse("connections:delete", args=[acme_sqlite.pk]),
        reverse("connections:create"),
        reverse("audit:list"),
    ]:
        assert client.get(url).status_code == 403, url
    test_url, _ = post_actions(acme_sqlite, people)[0]
    assert client.post(test_url).status_code == 302
    for url, data in post_actions(acme_sqlite, people)[1:]:
        assert client.post(url, data).status_code == 403, url
    assert Connection.objects.filter(pk=acme_sqlite.pk).exists()
    if who == "carol":
        for url, data in explorer_writes(acme_sqlite):
            assert client.post(url, data).status_code == 403, url
    import sqlite3

    assert sqlite3.connect(acme_sqlite.database).execute("SELECT id, name FROM t").fetchall() == [(1, "x")]
    assert Membership.objects.get(user=people.carol).role == Role.VIEWER


def test_admins_reach_every_page(acme_sqlite: Connection, people: People) -> None:
    client = client_for(people.alice)
    for url in [*app_pages(), *connection_pages(acme_sqlite.pk), reverse("accounts:team", args=[people.acme.pk])]:
        assert client.get(url).status_code == 200, url


def test_pages_of_another_engine_family_explain_themselves(acme_sqlite: Connection, people: People) -> None:
    client = client_for(people.alice)
    for url in other_style_pages(acme_sqlite.pk):
        response = client.get(url)
        assert response.status_code == 400 and b"SQLite" in response.content, url


def test_a_grant_narrows_an_editor_to_viewer_on_one_connection(acme_sqlite: Connection, people: People) -> None:
    ConnectionGrant.objects.create(user=people.bob, connection=acme_sqlite, role=Role.VIEWER)
    assert get_connection_for(people.bob, acme_sqlite.pk).role == Role.VIEWER


def test_a_grant_widens_a_viewer_to_admin_on_one_connection(acme_sqlite: Connection, people: People) -> None:
    client_for(people.alice).post(
        reverse("connections:grant", args=[acme_sqlite.pk]), {"username": "carol", "role": "admin"}
    )
    assert client_for(people.carol).get(reverse("connections:edit", args=[acme_sqlite.pk])).status_code == 200
    other = Connection.objects.create(team=people.acme, name="Other", engine="sqlite", database=acme_sqlite.database)
    assert client_for(people.carol).get(reverse("connections:edit", args=[other.pk])).status_code == 403


def test_grants_are_only_for_team_members(acme_sqlite: Connection, people: People) -> None:
    client_for(people.alice).post(
        reverse("connections:grant", args=[acme_sqlite.pk]), {"username": "charlie", "role": "admin"}
    )
    assert not ConnectionGrant.objects.exists()
    assert client_for(people.charlie).get(reverse("connections:detail", args=[acme_sqlite.pk])).status_code == 404


def test_superusers_see_every_team(acme_sqlite: Connection, people: People) -> None:
    people.charlie.is_superuser = True
    people.charlie.save()
    assert client_for(people.charlie).get(reverse("connections:edit", args=[acme_sqlite.pk])).status_code == 200


def plan_and_job_pages(conn: Connection, people: People) -> list[str]:
    """A saved plan, a comparison of two, and an index job on the SQLite connection."""
    from explorer.models import IndexJob, SavedPlan

    tree = {"root": {"op": "Full scan", "rel": "t", "kids": []}, "analyzed": False}
    a = SavedPlan.objects.create(connection=conn, user=people.bob, statement="SELECT 1", tree=tree, raw="raw")
    b = SavedPlan.objects.create(connection=conn, user=people.bob, statement="SELECT 2", tree=tree, raw="raw")
    job = IndexJob.objects.create(connection=conn, user=people.bob, action="create", namespace="main", obj="t")
    compare = reverse("explorer:plan_compare", args=[conn.pk]) + f"?a={a.token}&b={b.token}"
    raw = reverse("explorer:plan_raw", args=[conn.pk, a.token])
    return [a.get_absolute_url(), compare, job.get_absolute_url(), raw]


@pytest.mark.parametrize("who", ["anonymous", "charlie", "carol", "bob", "alice"])
def test_saved_plans_and_index_jobs_walked_as_every_role(who: str, acme_sqlite: Connection, people: People) -> None:
    client = client_for(None if who == "anonymous" else getattr(people, who))
    for url in plan_and_job_pages(acme_sqlite, people):
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
        else:
            assert response.status_code == (404 if who == "charlie" else 200), url
    explain = client.post(reverse("explorer:explain", args=[acme_sqlite.pk]), {"statement": "SELECT * FROM t"})
    assert explain.status_code == {"anonymous": 302, "charlie": 404}.get(who, 302)


# ---- backups (backups/urls.py) ----------------------------------------------------------------


def _backup_objects(conn: Connection, people: People) -> dict[str, int]:
    from backups.models import Artifact, BackupPlan, BackupRun, Destination, RestoreTest

    dest = Destination.objects.create(team=people.acme, name="Local", kind="local")
    plan = BackupPlan.objects.create(connection=conn, name="nightly", destination=dest, restore_test_cron="")
    run = BackupRun.objects.create(plan=plan, status="succeeded")
    manifest = {"format": "dbdeck-backup/1", "engine": "sqlite", "objects": [], "parts": []}
    artifact = Artifact.objects.create(
        run=run,
        plan=plan,
        destination=dest,
        location="/nonexistent",
        manifest_url="/nonexistent/m.json",
        manifest=manifest,
    )
    test = RestoreTest.objects.create(artifact=artifact, plan=plan, status="succeeded", finished_at=run.created_at)
    return {"plan": plan.pk, "run": run.pk, "artifact": artifact.pk, "test": test.pk}


def backup_pages(ids: dict[str, int]) -> dict[str, str]:
    return {
        "plan": reverse("backups:plan", args=[ids["plan"]]),
        "run": reverse("backups:run", args=[ids["run"]]),
        "test": reverse("backups:restore_test", args=[ids["test"]]),
        "edit": reverse("backups:plan_edit", args=[ids["plan"]]),
        "restore": reverse("backups:artifact_restore", args=[ids["artifact"]]),
    }


def test_backup_pages_walk_every_role(acme_sqlite: Connection, people: People, settings: object) -> None:
    ids = _backup_objects(acme_sqlite, people)
    pages = backup_pages(ids)
    posts = [
        reverse("backups:run_now", args=[ids["plan"]]),
        reverse("backups:restore_test_now", args=[ids["plan"]]),
        reverse("backups:run_cancel", args=[ids["run"]]),
    ]
    creates = [reverse("backups:plan_create"), reverse("backups:destination_create")]
    for url in [*pages.values(), *posts, *creates]:
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login" in response["Location"], url
    outsider = client_for(people.charlie)
    for url in pages.values():
        assert outsider.get(url).status_code == 404, url
    for url in posts:
        assert outsider.post(url).status_code == 404, url
    viewer = client_for(people.carol)
    for name in ("plan", "run", "test"):
        assert viewer.get(pages[name]).status_code == 200, name
    for name in ("edit", "restore"):
        assert viewer.get(pages[name]).status_code == 403, name
    for url in posts:
        assert viewer.post(url).status_code == 403, url
    for url in creates:
        assert viewer.get(url).status_code == 403, url
    editor = client_for(people.bob)
    assert editor.get(pages["edit"]).status_code == 403 and editor.get(pages["restore"]).status_code == 403
    assert editor.post(reverse("backups:run_cancel", args=[ids["run"]])).status_code == 302
    admin = client_for(people.alice)
    for url in [*pages.values(), *creates, reverse("backups:index")]:
        assert admin.get(url).status_code == 200, url


def test_console_actions_walk_every_role(acme_sqlite: Connection, people: People) -> None:
    """Console posts: anonymous to login, another team 404, viewers run read-only, editors manage saved queries."""
    from explorer.console.models import ConsoleResult, ConsoleRun, ConsoleSession, SavedQuery

    session = ConsoleSession.objects.create(connection=acme_sqlite, user=people.bob, read_only=False)
    run = ConsoleRun.objects.create(session=session, text="SELECT 1")
    result = ConsoleResult.objects.create(run=run, statement=0, text="SELECT 1")
    saved = SavedQuery.objects.create(team=people.acme, connection=acme_sqlite, name="q", text="SELECT 1")
    pk = acme_sqlite.pk
    posts = [
        (reverse("explorer:console_run", args=[pk]), {"text": "SELECT 1"}),
        (reverse("explorer:console_transaction", args=[pk]), {"action": "begin"}),
        (reverse("explorer:console_cancel", args=[pk, run.pk]), {}),
        (reverse("explorer:console_more", args=[pk, result.pk]), {}),
        (reverse("explorer:console_export", args=[pk, result.pk]), {"format": "csv"}),
        (reverse("explorer:console_saved_delete", args=[pk, saved.pk]), {}),
    ]
    status_url = reverse("explorer:console_run_status", args=[pk, run.pk])
    anonymous = client_for(None)
    for url, data in posts:
        assert anonymous.post(url, data)["Location"].startswith(reverse("login")), url
    assert anonymous.get(status_url)["Location"].startswith(reverse("login"))
    outsider = client_for(people.charlie)
    for url, data in posts:
        assert outsider.post(url, data).status_code == 404, url
    assert outsider.get(status_url).status_code == 404
    carol = client_for(people.carol)  # a viewer: her own runs only, no saved-query deletes
    assert carol.post(posts[2][0]).status_code == 404  # bob's run
    assert carol.post(posts[3][0]).status_code == 404  # bob's result
    assert carol.post(posts[5][0]).status_code == 403
    assert carol.post(posts[0][0], posts[0][1]).status_code == 302
    assert ConsoleSession.objects.get(user=people.carol).read_only
    bob = client_for(people.bob)
    assert bob.get(status_url).status_code == 302
    assert bob.post(posts[5][0]).status_code == 302 and not SavedQuery.objects.filter(pk=saved.pk).exists()

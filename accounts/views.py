from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, user_passes_test
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import get_team_for, team_role, teams_for
from accounts.forms import MemberForm, RoleForm, TeamForm
from accounts.models import Membership, Role, Team
from audit.record import record


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    teams = teams_for(request.user).prefetch_related("memberships")
    return render(request, "accounts/team_list.html", {"teams": teams, "form": TeamForm()})


@require_POST
@login_required
@user_passes_test(lambda u: u.is_superuser)
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("accounts:teams")
    team = form.save()
    Membership.objects.get_or_create(user=request.user, team=team, defaults={"role": Role.ADMIN})
    record("team.create", request=request, team=team, target=team.name)
    return redirect("accounts:team", pk=team.pk)


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk)
    role = team_role(request.user, team)
    ctx = {
        "team": team,
        "is_admin": role is not None and role.allows(Role.ADMIN),
        "members": team.memberships.select_related("user"),
        "form": MemberForm(),
        "roles": Role.choices,
    }
    return render(request, "accounts/team_detail.html", ctx)


def _admins_left(team: Team, without: Membership) -> bool:
    return team.memberships.filter(role=Role.ADMIN).exclude(pk=without.pk).exists()


@require_POST
@login_required
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk, need=Role.ADMIN)
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a username and a role.")
        return redirect("accounts:team", pk=team.pk)
    user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
    if user is None:
        messages.error(request, "No user has that username; create the account first (Django admin).")
        return redirect("accounts:team", pk=team.pk)
    membership, created = Membership.objects.get_or_create(
        user=user, team=team, defaults={"role": form.cleaned_data["role"]}
    )
    if not created:
        messages.info(request, f"{user.username} is already a member.")
    else:
        record("member.add", request=request, team=team, target=user.username, role=membership.role)
        messages.success(request, f"Added {user.username} as {membership.role}.")
    return redirect("accounts:team", pk=team.pk)


@require_POST
@login_required
def member_role(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk, need=Role.ADMIN)
    membership = get_object_or_404(Membership, pk=member_pk, team=team)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
        return redirect("accounts:team", pk=team.pk)
    new = form.cleaned_data["role"]
    with transaction.atomic():
        if membership.role == Role.ADMIN and new != Role.ADMIN and not _admins_left(team, membership):
            messages.error(request, "A team needs at least one admin; promote someone else first.")
            return redirect("accounts:team", pk=team.pk)
        old, membership.role = membership.role, new
        membership.save(update_fields=["role"])
        record("member.role", request=request, team=team, target=membership.user.username, before=old, after=new)
    messages.success(request, f"{membership.user.username} is now {new}.")
    return redirect("accounts:team", pk=team.pk)


@require_POST
@login_required
def member_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    team = get_team_for(request.user, pk, need=Role.ADMIN)
    membership = get_object_or_404(Membership, pk=member_pk, team=team)
    with transaction.atomic():
        if membership.role == Role.ADMIN and not _admins_left(team, membership):
            messages.error(request, "A team needs at least one admin; promote someone else first.")
            return redirect("accounts:team", pk=team.pk)
        username = membership.user.username
        membership.delete()
        record("member.remove", request=request, team=team, target=username)
    messages.success(request, f"Removed {username}.")
    return redirect("accounts:team", pk=team.pk)

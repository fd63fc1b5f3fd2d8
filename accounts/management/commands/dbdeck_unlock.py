"""Lift a login lockout before its cool-off ends, and say so in the audit trail."""

from __future__ import annotations

from typing import Any

from axes.utils import reset
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.record import record


class Command(BaseCommand):
    help = "Unlock a username (and optionally an address) locked out by repeated failed logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", default="", help="the locked-out username")
        parser.add_argument("--ip", default="", help="also unlock this client address")

    def handle(self, *args: Any, username: str, ip: str, **options: Any) -> None:
        if not username and not ip:
            raise CommandError("Name a username, an --ip address, or both.")
        removed = 0
        if username:
            removed += reset(username=username)
        if ip:
            removed += reset(ip=ip)
        record("login.unlocked", target=username or ip, address=ip or None, attempts_cleared=removed, via="command")
        self.stdout.write(f"Cleared {removed} failed-attempt record(s); {username or ip} can log in again.")

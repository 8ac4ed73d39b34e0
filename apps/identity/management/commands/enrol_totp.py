"""Give a staff user a new authenticator-app (TOTP) device and print its otpauth:// URL.

    python manage.py enrol_totp <username>

For the first administrator (the admin asks for TOTP before it opens) and for a lost phone.
The URL goes into the authenticator app (most accept it pasted or as a QR code).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import DomainError
from apps.identity.models import User
from apps.identity.services import enrol_totp_device


class Command(BaseCommand):
    help = "Enrol a new TOTP device for a staff user and print its otpauth:// URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.", returncode=1)
        try:
            device = enrol_totp_device(actor=None, user=user)
        except DomainError as error:
            raise CommandError(error.message, returncode=1) from error
        self.stdout.write(device.config_url)

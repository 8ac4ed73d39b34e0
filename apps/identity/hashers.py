"""Password hashing whose cost is a setting.

Passwords exist only for the demo users and the administrators' break-glass sign-in (staff sign
in through SSO). Django's PBKDF2 default costs about half a second of CPU per check on a small
web container; `FINPULSE_PASSWORD_ITERATIONS` sets it. Existing hashes keep verifying whatever
their iteration count, and are re-hashed at the next sign-in when the setting changes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher


class SettingsPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    @property  # type: ignore[override]  # Django reads a class attribute; a property reads the setting per call
    def iterations(self) -> int:
        return settings.FINPULSE_PASSWORD_ITERATIONS

"""TOTP devices and their current codes, computed like the authenticator app does."""

from __future__ import annotations

from typing import Any

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol_totp(user: Any, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=confirmed)


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    code = int(current_code(device))
    return f"{(code + 1) % 10**device.digits:0{device.digits}d}"

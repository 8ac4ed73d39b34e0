"""The test OIDC provider process (tests/oidc_provider/provider.mjs) and a client that follows
its HTML forms for real, like a browser without JavaScript."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
CLIENT_ID = "finpulse"
CLIENT_SECRET = "finpulse-test-secret"
API_AUDIENCE = "urn:finpulse:api"
OTHER_AUDIENCE = "urn:other-bank-system:api"
SCOPES = "openid email profile finpulse"


def provider_unavailable_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (the test OIDC provider needs Node.js)"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return "the npm package oidc-provider is not installed (run `make node-deps`)"
    return None


@dataclass
class ProviderProcess:
    url: str
    process: subprocess.Popen[bytes]
    log_path: str

    def admin(self, method: str, path: str, payload: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/__admin/{path}", json=payload, timeout=5)
        response.raise_for_status()
        return response.json()

    def set_account(self, sub: str, **claims: Any) -> None:
        self.admin("PUT", f"accounts/{sub}", claims)

    def set_access_token_ttl(self, seconds: int) -> None:
        self.admin("PUT", "settings", {"accessTokenTTL": seconds})

    def hits(self) -> dict[str, int]:
        return self.admin("GET", "stats")["hits"]

    def reset_hits(self) -> None:
        self.admin("POST", "stats/reset")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_provider(*, redirect_uris: list[str], post_logout_uris: list[str], timeout: float = 20.0) -> ProviderProcess:
    log = tempfile.NamedTemporaryFile(prefix="oidc-provider-", suffix=".log", delete=False)  # noqa: SIM115
    env = {
        **os.environ,
        "OIDC_TEST_PORT": "0",
        "OIDC_TEST_CLIENT_ID": CLIENT_ID,
        "OIDC_TEST_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_TEST_REDIRECT_URIS": ",".join(redirect_uris),
        "OIDC_TEST_POST_LOGOUT_URIS": ",".join(post_logout_uris),
        "OIDC_TEST_API_AUDIENCE": API_AUDIENCE,
        "OIDC_TEST_OTHER_AUDIENCE": OTHER_AUDIENCE,
    }
    process = subprocess.Popen(
        [shutil.which("node") or "node", "provider.mjs"],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=log,
        env=env,
    )
    deadline = time.monotonic() + timeout
    line = b""
    assert process.stdout is not None
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(process.stdout.fileno(), 256)
            if not chunk:
                break
            line += chunk
    if not line.startswith(b"READY "):
        process.kill()
        process.wait(timeout=5)
        raise RuntimeError(f"the test OIDC provider did not start: {Path(log.name).read_text()[-2000:]}")
    port = int(line.split()[1])
    return ProviderProcess(url=f"http://127.0.0.1:{port}", process=process, log_path=log.name)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    form_id: str = ""


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._current = Form(
                action=attributes.get("action", ""),
                method=attributes.get("method", "get").lower(),
                form_id=attributes.get("id", ""),
            )
            self.forms.append(self._current)
        elif tag == "input" and attributes.get("name"):
            owner = self._current
            if attributes.get("form"):
                owner = next((f for f in self.forms if f.form_id == attributes["form"]), owner)
            if owner is not None:
                owner.fields[attributes["name"]] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class FormFollowingClient:
    """requests with cookies, submitting the provider's login, consent and logout forms."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def submit(self, response: requests.Response, values: dict[str, str], **kwargs: Any) -> requests.Response:
        forms = parse_forms(response.text)
        assert forms, f"expected a form at {response.url}, got {response.status_code}: {response.text[:500]}"
        form = forms[0]
        data = {**form.fields, **values}
        url = urljoin(response.url, form.action or response.url)
        if form.method == "post":
            return self.http.post(url, data=data, timeout=10, **kwargs)
        return self.http.get(url, params=data, timeout=10, **kwargs)

    def complete_provider_login(self, response: requests.Response, sub: str, **kwargs: Any) -> requests.Response:
        """From the provider's login page (or a page past it), through consent, back to the RP."""
        for _ in range(4):
            forms = parse_forms(response.text) if response.status_code == 200 else []
            if not forms or "/interaction/" not in (forms[0].action or ""):
                return response
            fields = forms[0].fields
            if fields.get("prompt") == "login":
                response = self.submit(response, {"login": sub, "password": "irrelevant"}, **kwargs)
            else:
                response = self.submit(response, {}, **kwargs)
        return response

    def sso_login(self, rp_url: str, sub: str, next_url: str = "/") -> requests.Response:
        start = self.http.get(f"{rp_url}/oidc/authenticate/", params={"next": next_url}, timeout=10)
        return self.complete_provider_login(start, sub)

    def follow_until(self, response: requests.Response, prefix: str) -> str:
        """Follow redirects by hand until one points at `prefix`; return that URL unvisited."""
        for _ in range(10):
            location = response.headers.get("Location")
            if response.is_redirect and location:
                target = urljoin(response.url, location)
                if target.startswith(prefix):
                    return target
                response = self.http.get(target, allow_redirects=False, timeout=10)
                continue
            forms = parse_forms(response.text)
            assert forms, f"stuck at {response.url}: {response.status_code} {response.text[:300]}"
            values = {"login": self._sub, "password": "irrelevant"} if forms[0].fields.get("prompt") == "login" else {}
            response = self.submit(response, values, allow_redirects=False)
        raise AssertionError(f"never redirected to {prefix}")

    def access_token(self, provider: ProviderProcess, *, sub: str, redirect_uri: str, resource: str) -> str:
        """A real access token from the provider's code flow with a resource indicator."""
        self._sub = sub
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "resource": resource,
        }
        first = self.http.get(f"{provider.url}/auth?{urlencode(params)}", allow_redirects=False, timeout=10)
        callback = self.follow_until(first, redirect_uri)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        token = self.http.post(
            f"{provider.url}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "code_verifier": verifier,
                "resource": resource,
            },
            timeout=10,
        )
        assert token.status_code == 200, token.text
        return token.json()["access_token"]

"""The S3 storage configuration, in one place for the settings and the tests.

Attachments and exports go to S3 (or an S3-compatible server) when FINPULSE_STORAGE_BUCKET
is set; credentials come the standard AWS way (environment, or the ECS task role), never
from our settings.
"""

from __future__ import annotations

from typing import Any


def s3_storage(*, bucket: str, endpoint_url: str = "", region: str = "", prefix: str = "") -> dict[str, Any]:
    """The STORAGES["default"] entry for a private bucket that only our permission-checked views read."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "location": prefix,
            # A private bucket: no ACLs, never overwrite, and no URL that works without our check.
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": 60,
            # S3-compatible servers on a host name or an address answer path-style requests.
            "addressing_style": "path" if endpoint_url else None,
        },
    }

"""Reads from a real streaming replica, read-your-writes on the primary, and the fall-back when
the replica is down: FinPulse under gunicorn, driven over HTTP (fixtures in conftest.py).

The proof that a page read the replica: WAL replay on the replica is paused, a manager saves
an interaction (on the primary), and a session that did not write does not see it until the
replay resumes; the session that wrote sees it at once.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from zoneinfo import ZoneInfo

import pytest

from tests.replicas.conftest import PIN_SECONDS, ReplicatedSite

pytestmark = pytest.mark.services


def _metric(site: ReplicatedSite, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", site.metrics(), re.M)
    return float(match.group(1)) if match else 0.0


def _timeline(site: ReplicatedSite) -> str:
    return f"{site.base_url}/customers/{site.customer_id}/timeline/"


def _log_interaction(site: ReplicatedSite, session_key: str, subject: str) -> None:
    occurred = (dt.datetime.now(ZoneInfo("Europe/London")) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = site.client(session_key).post(
        f"{site.base_url}/customers/{site.customer_id}/interactions/new/",
        data={"channel": "phone", "occurred_at": occurred, "subject": subject, "body": "", "outcome": ""},
        allow_redirects=False,
        timeout=30,
    )
    # The replica is read-only: a write routed there would have failed.
    assert response.status_code == 302, response.text[:2000]


def _wait_until_visible(site: ReplicatedSite, session_key: str, subject: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while subject not in site.client(session_key).get(_timeline(site), timeout=30).text:
        assert time.monotonic() < deadline, f"{subject!r} never reached the replica"
        time.sleep(0.3)


def _subject() -> str:
    return f"Replica proof {uuid.uuid4().hex[:10]}"


def test_pages_read_from_the_replica_and_the_session_that_wrote_reads_the_primary(replicated_site):
    site = replicated_site
    writer, reader = site.session_keys[0], site.session_keys[1]
    subject = _subject()
    replica_reads_before = _metric(site, 'finpulse_db_queries_total{alias="replica"}')
    assert site.client(reader).get(_timeline(site), timeout=30).status_code == 200

    site.replica.sql("SELECT pg_wal_replay_pause()", database="postgres")
    try:
        _log_interaction(site, writer, subject)
        saved = site.primary.sql(f"SELECT count(*) FROM interactions_interaction WHERE subject = '{subject}'")
        assert saved == "1"

        assert subject in site.client(writer).get(_timeline(site), timeout=30).text  # read-your-writes
        assert subject not in site.client(reader).get(_timeline(site), timeout=30).text  # the paused replica
    finally:
        site.replica.sql("SELECT pg_wal_replay_resume()", database="postgres")

    _wait_until_visible(site, reader, subject)
    assert _metric(site, 'finpulse_db_queries_total{alias="replica"}') > replica_reads_before


def test_the_writers_pin_ends_after_the_pin_window(replicated_site):
    site = replicated_site
    writer = site.session_keys[0]
    subject = _subject()

    site.replica.sql("SELECT pg_wal_replay_pause()", database="postgres")
    try:
        _log_interaction(site, writer, subject)
        assert subject in site.client(writer).get(_timeline(site), timeout=30).text
        time.sleep(PIN_SECONDS + 0.5)
        assert subject not in site.client(writer).get(_timeline(site), timeout=30).text  # back on the replica
    finally:
        site.replica.sql("SELECT pg_wal_replay_resume()", database="postgres")
    _wait_until_visible(site, writer, subject)


def test_pages_still_serve_from_the_primary_while_the_replica_is_down(replicated_site):
    site = replicated_site
    reader = site.session_keys[2]
    subject = _subject()
    fallbacks_before = _metric(site, "finpulse_db_replica_fallbacks_total")

    site.replica.stop()
    try:
        _log_interaction(site, site.session_keys[0], subject)
        response = site.client(reader).get(_timeline(site), timeout=30)

        assert response.status_code == 200
        assert subject in response.text  # read from the primary
        assert _metric(site, "finpulse_db_replica_fallbacks_total") > fallbacks_before
    finally:
        site.replica.start()

    # Once the retry interval has passed, reads go back to the replica.
    time.sleep(2.5)
    replica_reads = _metric(site, 'finpulse_db_queries_total{alias="replica"}')
    assert site.client(reader).get(_timeline(site), timeout=30).status_code == 200
    assert _metric(site, 'finpulse_db_queries_total{alias="replica"}') > replica_reads

"""Sealed audit blocks and their anchors: tampering of every kind is detected and named.

These tests commit for real (`transactional_db`): the sealer only seals events whose
transaction has ended, which a test wrapped in one open transaction would never allow.
"""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.core.anchors import FolderAnchorStore, anchor_store
from apps.core.audit import AuditEntry, compute_hash, record_audit_events, record_read_event
from apps.core.audit_seal import check_proof, event_proof, leaves_of, seal_pending
from apps.core.merkle import inclusion_proof, merkle_root, root_from_proof
from apps.core.models import AuditBlock, AuditEvent
from tests.core.sealing import seal_all
from tests.core.tampering import triggers_disabled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def anchors(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.FINPULSE_AUDIT_ANCHOR_DIR = tmp_path / "anchors"
    settings.FINPULSE_AUDIT_BLOCK_SIZE = 4
    return tmp_path / "anchors"


def write_events(count: int, action: str = "test.written") -> list[AuditEvent]:
    with transaction.atomic():
        return record_audit_events(
            AuditEntry(action=action, object_type="test", object_id=n, metadata={"n": n}) for n in range(count)
        )


def verify() -> tuple[str, str, CommandError | None]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit_chain", "--all", stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


@pytest.fixture
def sealed() -> list[AuditEvent]:
    """Ten events sealed in three blocks (4 + 4 + 2), anchored in the folder.

    One transaction writes them all: the horizon passes them together. Two transactions could be
    sealed 4 + 2 + 4 when another database's transaction holds the horizon between them for a
    moment (a transaction of the snapshot that ends before pg_stat_activity is read is kept)."""
    write_events(10)
    blocks = seal_all()
    assert [b.event_count for b in blocks] == [4, 4, 2]
    return list(AuditEvent.objects.order_by("txid", "id"))


def test_sealed_blocks_chain_and_anchor_and_verify(sealed, anchors):
    blocks = list(AuditBlock.objects.order_by("index"))

    assert [b.index for b in blocks] == [0, 1, 2]
    assert blocks[1].prev_seal == blocks[0].seal and blocks[2].prev_seal == blocks[1].seal
    assert [i for b in blocks for i in b.event_ids] == [e.pk for e in sealed]
    assert blocks[0].merkle_root == merkle_root([bytes.fromhex(e.hash) for e in sealed[:4]])
    stored = json.loads((anchors / "block-000000000001.json").read_text())
    assert stored["seal"] == blocks[1].seal and stored["merkle_root"] == blocks[1].merkle_root
    out, _, error = verify()
    assert error is None
    assert out.strip() == "OK: 10 events in 3 blocks, 3 anchors, 0 events not sealed yet"
    assert seal_pending() == []  # nothing left: a second run seals nothing twice


def test_a_local_anchor_cannot_be_written_twice(sealed, anchors):
    path = anchors / "block-000000000000.json"
    assert path.stat().st_mode & 0o222 == 0  # read-only
    with pytest.raises(Exception, match="exists with other content"):
        FolderAnchorStore(anchors).put(0, {"seal": "0" * 64})


def test_deleting_the_newest_events_is_named(sealed):
    newest = sealed[-2:]
    with triggers_disabled("core.AuditEvent:audit_append_only"):
        AuditEvent.objects.filter(pk__in=[e.pk for e in newest]).delete()

    _, err, error = verify()

    assert error is not None and error.returncode == 1
    for event in newest:
        assert f"BROKEN block 2, event id {event.pk}: it was sealed in this block but is missing (deleted)" in err
    assert "block 0" not in err and "block 1," not in err


def test_deleting_the_newest_events_and_their_block_is_named_by_the_anchor(sealed):
    with triggers_disabled("core.AuditEvent:audit_append_only", "core.AuditBlock:audit_block_append_only"):
        AuditEvent.objects.filter(pk__in=[e.pk for e in sealed[-2:]]).delete()
        AuditBlock.objects.filter(index=2).delete()

    _, err, error = verify()

    assert error is not None
    assert "block 2: anchored in" in err and "missing from the database after the newest block (truncated)" in err


def test_rewriting_an_event_and_recomputing_every_later_hash_is_named(sealed):
    forged = sealed[5]
    with triggers_disabled("core.AuditEvent:audit_append_only"):
        for event in sealed[5:]:  # the forger re-hashes the altered event and everything after it
            if event.pk == forged.pk:
                event.metadata = {"n": "nothing to see"}
            event.hash = compute_hash(event)
            AuditEvent.objects.filter(pk=event.pk).update(metadata=event.metadata, hash=event.hash)

    _, err, error = verify()

    assert error is not None
    assert f"block 1, event id {forged.pk}: its hash differs from the sealed one" in err
    assert err.count("BROKEN") == 1  # the other re-hashed rows are unchanged, so they still match


def test_rewriting_an_event_without_its_hash_is_named(sealed):
    with triggers_disabled("core.AuditEvent:audit_append_only"):
        AuditEvent.objects.filter(pk=sealed[0].pk).update(actor_label="someone.else")

    _, err, error = verify()

    assert error is not None
    assert f"block 0, event id {sealed[0].pk}: its content does not match its hash" in err


def test_deleting_a_block_is_named(sealed):
    with triggers_disabled("core.AuditBlock:audit_block_append_only"):
        AuditBlock.objects.filter(index=1).delete()

    _, err, error = verify()

    assert error is not None
    assert "block 2: block 1 missing (deleted) before it" in err
    assert "block 1: anchored in" in err and "missing from the database (deleted)" in err
    for event in sealed[4:8]:
        assert f"event id {event.pk}: it belongs to no block" in err


def test_rewriting_a_block_with_its_seal_is_caught_by_the_anchor(sealed):
    block = AuditBlock.objects.get(index=0)
    with triggers_disabled("core.AuditBlock:audit_block_append_only"):
        AuditBlock.objects.filter(pk=block.pk).update(sealed_at=block.sealed_at.replace(year=2001))

    _, err, error = verify()

    assert error is not None
    assert "block 0: the block does not match its anchor" in err


def test_altering_a_local_anchor_is_named(sealed, anchors):
    path = anchors / "block-000000000001.json"
    content = json.loads(path.read_text())
    content["merkle_root"] = "f" * 64
    path.chmod(0o644)
    path.write_text(json.dumps(content))

    _, err, error = verify()

    assert error is not None
    assert "block 1: the block does not match its anchor" in err


def test_an_unsealed_event_is_reported_not_sealed_yet(sealed):
    write_events(1)

    out, _, error = verify()

    assert error is None
    assert "1 events not sealed yet" in out


def test_a_transaction_that_commits_late_with_a_lower_id_is_sealed_after_it_commits():
    """The horizon rule: an open transaction holds back sealing of everything written after it."""
    import threading

    early_written, release = threading.Event(), threading.Event()
    ids: dict[str, int] = {}
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                ids["slow"] = record_audit_events([AuditEntry(action="test.slow")])[0].pk
                early_written.set()
                assert release.wait(timeout=30)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert early_written.wait(timeout=30)
    ids["fast"] = write_events(1, "test.fast")[0].pk  # committed while the slow one is still open
    blocks_while_open = seal_pending()
    release.set()
    thread.join(timeout=60)

    assert not errors
    assert ids["slow"] < ids["fast"]
    assert not any(ids["fast"] in block.event_ids for block in blocks_while_open)
    seal_all()
    order = [i for b in AuditBlock.objects.order_by("index") for i in b.event_ids]
    assert order.index(ids["slow"]) < order.index(ids["fast"])
    assert verify()[2] is None


def test_a_read_event_outside_a_transaction_is_one_insert_sealed_like_any_other(sealed):
    """A page view's event (record_read_event) opens no transaction: its INSERT is its own."""
    from apps.customers.models import Customer

    assert not connection.in_atomic_block
    with CaptureQueriesContext(connection) as captured:
        event = record_read_event(actor=None, action="test.read", target=Customer(pk=7), metadata={"purpose": "x"})

    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["INSERT"]
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.txid > max(e.txid for e in sealed)  # the statement's own transaction, committed
    assert (stored.customer_id, stored.object_type, stored.hash) == (7, "customers.customer", compute_hash(stored))
    seal_all()
    assert event.pk in AuditBlock.objects.order_by("-index").first().event_ids
    assert verify()[2] is None


def test_an_exported_proof_checks_and_a_forged_one_does_not(sealed):
    event = sealed[6]
    out = StringIO()
    call_command("audit_proof", str(event.pk), stdout=out)
    proof = json.loads(out.getvalue())

    assert proof["event"]["id"] == event.pk
    assert proof["tree_size"] == 4 and proof["leaf_index"] == 2
    assert check_proof(proof)
    forged = json.loads(out.getvalue())
    forged["event"]["canonical_json"] = forged["event"]["canonical_json"].replace("test.written", "test.forged")
    assert not check_proof(forged)
    forged = json.loads(out.getvalue())
    forged["path"][0]["hash"] = "0" * 64
    assert not check_proof(forged)


def test_a_proof_of_an_unsealed_event_is_refused():
    event = write_events(1)[0]
    with pytest.raises(CommandError, match="not sealed yet"):
        call_command("audit_proof", str(event.pk), stdout=StringIO())


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13])
def test_every_leaf_has_a_proof_to_the_root(size):
    hashes = [bytes([n]) * 32 for n in range(size)]
    root = merkle_root(hashes)
    for position, leaf in enumerate(hashes):
        assert root_from_proof(leaf, inclusion_proof(hashes, position)) == root
    assert root_from_proof(hashes[0], inclusion_proof(hashes, size - 1)) != root or size == 1


def test_events_from_before_blocks_keep_their_chain_and_become_the_first_block():
    """Rows of the old design (txid 0, hash-chained) are sealed first and their links still checked."""
    from apps.core.audit import GENESIS_HASH

    prev = GENESIS_HASH
    legacy = []
    with transaction.atomic():
        for n in range(3):
            event = AuditEvent(
                occurred_at=dt.datetime(2026, 1, n + 1, 10, tzinfo=dt.UTC),
                actor_label="system",
                action="legacy.written",
                metadata={"n": n},
                prev_hash=prev,
            )
            event.hash = prev = compute_hash(event)
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO core_auditevent (occurred_at, actor_label, action, object_type, object_id, changes, "
                    "metadata, request_id, prev_hash, hash, txid) VALUES (%s, 'system', 'legacy.written', '', '', "
                    "'{}', %s, '', %s, %s, '0') RETURNING id",
                    [event.occurred_at, json.dumps({"n": n}), event.prev_hash, event.hash],
                )
                legacy.append(cursor.fetchone()[0])
    write_events(2)

    seal_all()

    first = AuditBlock.objects.get(index=0)
    assert first.event_ids[:3] == legacy
    assert verify()[2] is None
    # The old chain's own check still runs: a legacy row re-hashed is named (by its block and its link).
    with triggers_disabled("core.AuditEvent:audit_append_only"):
        forged = AuditEvent.objects.get(pk=legacy[1])
        forged.metadata = {"n": "forged"}
        AuditEvent.objects.filter(pk=forged.pk).update(metadata=forged.metadata, hash=compute_hash(forged))
    _, err, error = verify()
    assert error is not None
    assert f"event id {legacy[1]}: its hash differs from the sealed one" in err
    assert f"event id {legacy[2]}: its previous-hash link does not match row {legacy[1]}" in err


def test_the_sealer_refuses_to_run_inside_a_transaction():
    with pytest.raises(RuntimeError, match="transactions of its own"), transaction.atomic():
        seal_pending()


def test_leaves_are_the_events_hashes_in_order(sealed):
    block = AuditBlock.objects.get(index=0)
    assert [leaf.hex() for leaf in leaves_of(block)] == [e.hash for e in sealed[:4]]
    assert anchor_store().get(0) is not None
    assert event_proof(sealed[0])["anchor"]["content"]["seal"] == block.seal


# ---- anchors in a real S3-protocol server with Object Lock (moto_server process) -----------------


@pytest.fixture
def s3_anchors(s3_server, settings, monkeypatch):  # type: ignore[no-untyped-def]
    """A fresh bucket with Object Lock on the moto server, configured as the anchor store."""
    import uuid

    from tests.s3_server import REGION, s3_client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "finpulse-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "finpulse-test-secret")
    bucket = f"finpulse-anchors-{uuid.uuid4().hex[:12]}"
    client = s3_client(s3_server)
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}, ObjectLockEnabledForBucket=True
    )
    settings.FINPULSE_AUDIT_ANCHOR_BUCKET = bucket
    settings.FINPULSE_AUDIT_ANCHOR_ENDPOINT_URL = s3_server
    settings.AWS_DEFAULT_REGION = REGION
    return client, bucket


def test_anchors_in_s3_are_locked_and_cannot_be_deleted(s3_anchors):
    client, bucket = s3_anchors
    write_events(3)
    seal_all()

    key = f"{anchor_store().prefix}block-000000000000.json"  # type: ignore[attr-defined]
    head = client.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    version = client.list_object_versions(Bucket=bucket, Prefix=key)["Versions"][0]["VersionId"]
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert client.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
    out, _, error = verify()
    assert error is None, error
    assert "1 anchors" in out


def test_an_anchor_overwritten_in_s3_is_named(s3_anchors):
    client, bucket = s3_anchors
    write_events(3)
    seal_all()
    key = f"{anchor_store().prefix}block-000000000000.json"  # type: ignore[attr-defined]
    forged = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    forged["merkle_root"] = "f" * 64
    client.put_object(Bucket=bucket, Key=key, Body=json.dumps(forged).encode(), ChecksumAlgorithm="SHA256")

    _, err, error = verify()

    assert error is not None
    assert "block 0: its anchor was written 2 times (overwritten)" in err


def test_a_block_rewritten_with_a_new_seal_is_named_by_the_s3_anchor(s3_anchors):
    """The forger recomputes the block's Merkle root and seal: only the anchor outside still knows."""
    from apps.core.audit_seal import block_seal

    write_events(3)
    seal_all()
    block = AuditBlock.objects.get(index=0)
    event = AuditEvent.objects.get(pk=block.event_ids[0])
    event.metadata = {"n": "forged"}
    event.hash = compute_hash(event)
    leaves = [bytes.fromhex(event.hash), *leaves_of(block)[1:]]
    root = merkle_root(leaves)
    seal = block_seal(
        index=0,
        prev_seal=block.prev_seal,
        root=root,
        count=block.event_count,
        first=(block.first_txid, block.first_event),
        last=(block.last_txid, block.last_event),
    )
    with triggers_disabled("core.AuditEvent:audit_append_only", "core.AuditBlock:audit_block_append_only"):
        AuditEvent.objects.filter(pk=event.pk).update(metadata=event.metadata, hash=event.hash)
        AuditBlock.objects.filter(pk=block.pk).update(leaves=b"".join(leaves), merkle_root=root, seal=seal)

    _, err, error = verify()

    assert error is not None
    assert err.count("BROKEN") == 1
    assert "block 0: the block does not match its anchor" in err

"""Rebuild the phone blind indexes after the phone rule changed (E.164, or a new
FINPULSE_PHONE_REGION), in batches, resumably.

The index of a phone number cannot be checked without decrypting the number, so every row with
a phone is read; only rows whose index changes are written, so a rerun after an interruption
writes nothing twice. `--after PK` starts past what an earlier run reported as done, so a long
run can be split (`--limit`) or resumed without reading the first rows again. Each batch is one
transaction that locks its rows (a concurrent service write waits instead of being overwritten)
and records one audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import Q

from apps.core.audit import AuditEntry, record_audit_events
from apps.core.blind_index import blind_index
from apps.core.data_keys import open_sealed_in_bulk

PHONE_INDEXED_MODELS = ("customers.Customer", "leads.Lead")
DEFAULT_BATCH_SIZE = 1000
REINDEXED_ACTION = "phone_index.rebuilt"


@dataclass
class PhoneReindex:
    model: str
    scanned: int = 0
    changed: int = 0
    last_pk: Any = None
    stopped_early: bool = False  # --limit ran out before the end of the table


def phone_models(label: str | None = None) -> list[type[models.Model]]:
    labels = PHONE_INDEXED_MODELS if not label else (label,)
    if label and label not in PHONE_INDEXED_MODELS:
        raise LookupError(f"{label!r} has no phone index (one of: {', '.join(PHONE_INDEXED_MODELS)}).")
    return [apps.get_model(name) for name in labels]


def reindex_phones(
    model: type[models.Model],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    after: Any = None,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Callable[[PhoneReindex], None] | None = None,
) -> PhoneReindex:
    """Recompute phone_index from the decrypted phone for rows after `after`, in pk order.

    `limit` caps the rows read in this run; the result's last_pk is where the next run starts.
    A dry run counts what would change and locks nothing.
    """
    result = PhoneReindex(model=model._meta.label, last_pk=after)
    has_phone = Q(phone__isnull=False) | Q(phone_index__isnull=False)
    while limit is None or result.scanned < limit:
        size = batch_size if limit is None else min(batch_size, limit - result.scanned)
        with transaction.atomic():
            rows = model._base_manager.filter(has_phone).order_by("pk")
            if not dry_run:
                rows = rows.select_for_update()
            if result.last_pk is not None:
                rows = rows.filter(pk__gt=result.last_pk)
            # The base manager is a plain one: open the values under customers' data keys here.
            batch = open_sealed_in_bulk(list(rows.values_list("pk", "phone", "phone_index")[:size]))
            if not batch:
                return result
            fresh = {pk: (blind_index("phone", phone), index) for pk, phone, index in batch}
            stale = {pk: new for pk, (new, old) in fresh.items() if new != old}
            if stale and not dry_run:
                model._base_manager.bulk_update(
                    [model(pk=pk, phone_index=index) for pk, index in stale.items()], ["phone_index"]
                )
                record_audit_events(
                    [
                        AuditEntry(
                            action=REINDEXED_ACTION,
                            actor=None,
                            object_type=model._meta.label_lower,
                            metadata={
                                "model": model._meta.label,
                                "first_pk": min(stale),
                                "last_pk": max(stale),
                                "count": len(stale),
                                "region": settings.FINPULSE_PHONE_REGION,
                            },
                        )
                    ]
                )
        result.scanned += len(batch)
        result.changed += len(stale)
        result.last_pk = batch[-1][0]
        if progress:
            progress(result)
        if len(batch) < size:
            return result
    result.stopped_early = rows_after(model, result.last_pk, has_phone)
    return result


def rows_after(model: type[models.Model], pk: Any, condition: Q) -> bool:
    return model._base_manager.filter(condition, pk__gt=pk).exists()

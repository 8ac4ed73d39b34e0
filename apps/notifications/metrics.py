"""The outbox gauges on /metrics (registered with apps.core.metrics in NotificationsConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric


def outbox_gauges() -> Iterator[Metric]:
    from django.db.models import Count, Min

    from apps.notifications.models import Notification  # models load after the app registry

    row = Notification.objects.using("default").filter(status=Notification.Status.PENDING)
    stats = row.aggregate(pending=Count("id"), oldest=Min("created_at"))
    yield GaugeMetricFamily("finpulse_outbox_pending", "Notifications written but not yet delivered.", stats["pending"])
    from django.utils import timezone

    age = (timezone.now() - stats["oldest"]).total_seconds() if stats["oldest"] else 0.0
    yield GaugeMetricFamily("finpulse_outbox_oldest_age_seconds", "Age of the oldest pending notification.", age)
    # Claims that expired without a result (docs/operations.md): an administrator must decide.
    unknown = Notification.objects.using("default").filter(status=Notification.Status.UNKNOWN).count()
    yield GaugeMetricFamily(
        "finpulse_outbox_outcome_unknown", "Notifications whose delivery outcome is unknown (admin decides).", unknown
    )

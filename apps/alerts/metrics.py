"""The beat lock gauges on /metrics (registered with apps.core.metrics in AlertsConfig.ready)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric


def beat_lock_gauges() -> Iterator[Metric]:
    from apps.alerts.beat import beat_lock_holders

    holders = beat_lock_holders()
    gauge = GaugeMetricFamily(
        "finpulse_beat_lock_held", "1 for the beat process holding the beat lock.", labels=["holder"]
    )
    for holder in holders:
        gauge.add_metric([holder], 1)
    yield gauge
    yield GaugeMetricFamily(
        "finpulse_beat_lock_holders", "Beat processes holding the lock (should be 1).", len(holders)
    )

"""Order exporter: copies finished orders to the warehouse in batches, round after
round. Progress is pushed to the Pushgateway after every batch, and the round's
totals once more when the round ends, whatever happened.
"""
import os
import random
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    push_to_gateway,
    pushadd_to_gateway,
)

PUSHGATEWAY = os.environ["PUSHGATEWAY"]
JOB = "order-exporter"
INSTANCE = os.environ.get("HOSTNAME", "exporter-1")
BATCHES = int(os.environ.get("BATCHES", "5"))
ROUND_SECONDS = float(os.environ.get("ROUND_SECONDS", "60"))

registry = CollectorRegistry()
exported = Counter("orders_exported", "Orders copied to the warehouse.", registry=registry)
last_round = Gauge(
    "order_export_last_round_timestamp_seconds",
    "When the last export round ended.",
    registry=registry,
)


def export_batch():
    exported.inc(random.randint(10, 100))


def push_progress():
    pushadd_to_gateway(
        PUSHGATEWAY, job=JOB, registry=registry, grouping_key={"instance": INSTANCE}
    )


def main():
    while True:
        try:
            for _ in range(BATCHES):
                export_batch()
                push_progress()
        finally:
            last_round.set_to_current_time()
            push_to_gateway(PUSHGATEWAY, job=JOB, registry=registry, grouping_key={"instance": INSTANCE})
        time.sleep(ROUND_SECONDS)


if __name__ == "__main__":
    main()

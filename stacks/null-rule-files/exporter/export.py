"""Exports the day's orders to the warehouse.

Every 30 s it pushes its metrics to the Pushgateway as job "export",
instance "nightly", and serves them on :9400/metrics.
"""
import logging
import os
import random
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway, start_http_server

GATEWAY_URL = os.environ.get("PUSHGATEWAY_URL", "http://pushgateway:9091")

log = logging.getLogger("export")

registry = CollectorRegistry()
work = Counter("export_rows_total", "Units of work done, by kind.", ["kind"], registry=registry)
last_run = Gauge("export_last_run_timestamp_seconds", "Unix time of the last complete run.", registry=registry)


def run_once():
    for kind in ("a", "b"):
        work.labels(kind=kind).inc(random.randint(1, 20))
    last_run.set_to_current_time()


def main():
    logging.basicConfig(level=logging.INFO)
    start_http_server(9400, registry=registry)
    while True:
        run_once()
        try:
            push_to_gateway(GATEWAY_URL, job="export", registry=registry, grouping_key={"instance": "nightly"})
        except OSError as err:
            log.warning("push to %s failed: %s", GATEWAY_URL, err)
        time.sleep(30)


if __name__ == "__main__":
    main()

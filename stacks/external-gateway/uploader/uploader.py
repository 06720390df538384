"""Uploads the day's files to the archive.

Every 60 s it pushes its metrics to the Pushgateway as job "uploader",
instance "uploader-1", and serves them on :9950/metrics.
"""
import logging
import os
import random
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway, start_http_server

GATEWAY_URL = os.environ.get("PUSHGATEWAY_URL", "http://pushgw.example.internal:9091")

log = logging.getLogger("uploader")

registry = CollectorRegistry()
work = Counter("uploads_total", "Units of work done, by kind.", ["kind"], registry=registry)
last_run = Gauge("uploader_last_run_timestamp_seconds", "Unix time of the last complete run.", registry=registry)


def run_once():
    for kind in ("a", "b"):
        work.labels(kind=kind).inc(random.randint(1, 20))
    last_run.set_to_current_time()


def main():
    logging.basicConfig(level=logging.INFO)
    start_http_server(9950, registry=registry)
    while True:
        run_once()
        try:
            push_to_gateway(GATEWAY_URL, job="uploader", registry=registry, grouping_key={"instance": "uploader-1"})
        except OSError as err:
            log.warning("push to %s failed: %s", GATEWAY_URL, err)
        time.sleep(60)


if __name__ == "__main__":
    main()

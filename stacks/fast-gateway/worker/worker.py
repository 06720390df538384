"""Works through the job queue.

Every 5 s it pushes its metrics to the Pushgateway as job "worker",
instance "worker-1", and serves them on :9500/metrics.
"""
import logging
import os
import random
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway, start_http_server

GATEWAY_URL = os.environ.get("PUSHGATEWAY_URL", "http://pushgateway:9091")

log = logging.getLogger("worker")

registry = CollectorRegistry()
work = Counter("worker_jobs_total", "Units of work done, by kind.", ["kind"], registry=registry)
last_run = Gauge("worker_queue_depth", "Jobs waiting.", registry=registry)


def run_once():
    for kind in ("a", "b"):
        work.labels(kind=kind).inc(random.randint(1, 20))
    last_run.set(random.randint(0, 50))


def main():
    logging.basicConfig(level=logging.INFO)
    start_http_server(9500, registry=registry)
    while True:
        run_once()
        try:
            push_to_gateway(GATEWAY_URL, job="worker", registry=registry, grouping_key={"instance": "worker-1"})
        except OSError as err:
            log.warning("push to %s failed: %s", GATEWAY_URL, err)
        time.sleep(5)


if __name__ == "__main__":
    main()

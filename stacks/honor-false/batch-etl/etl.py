"""Nightly-style ETL loop: copies rows from the orders database into the
warehouse in batches and reports progress to Prometheus.

Metrics are pushed to the Pushgateway after every batch (job "batch-etl",
instance ETL_INSTANCE) and are also served on :METRICS_PORT/metrics.
"""
import logging
import os
import random
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway, start_http_server

PUSHGATEWAY = os.environ.get("PUSHGATEWAY", "pushgateway:9091")
INSTANCE = os.environ.get("ETL_INSTANCE", "etl-1")
INTERVAL_SECONDS = float(os.environ.get("ETL_INTERVAL_SECONDS", "60"))
METRICS_PORT = int(os.environ.get("METRICS_PORT", "9102"))
HOST = os.environ.get("HOST", "0.0.0.0")
TABLES = ("orders", "customers", "invoices")

log = logging.getLogger("batch-etl")

registry = CollectorRegistry()
rows_processed = Counter(
    "etl_rows_processed", "Rows copied into the warehouse.", ["table"], registry=registry
)
rows_failed = Counter(
    "etl_rows_failed", "Rows rejected during the copy.", ["table", "reason"], registry=registry
)
batches = Counter("etl_batches", "Batches run, by outcome.", ["status"], registry=registry)
last_duration = Gauge(
    "etl_last_batch_duration_seconds", "Duration of the last batch.", registry=registry
)
last_success = Gauge(
    "etl_last_success_timestamp_seconds", "Unix time of the last successful batch.", registry=registry
)


def copy_table(table):
    """Stand-in for the real copy: returns (rows copied, rows rejected by reason)."""
    copied = random.randint(200, 1200)
    rejected = {"schema": random.randint(0, 5), "duplicate": random.randint(0, 20)}
    return copied, rejected


def run_batch():
    started = time.time()
    try:
        for table in TABLES:
            copied, rejected = copy_table(table)
            rows_processed.labels(table=table).inc(copied)
            for reason, count in rejected.items():
                rows_failed.labels(table=table, reason=reason).inc(count)
        batches.labels(status="success").inc()
        last_success.set_to_current_time()
    except Exception:
        batches.labels(status="failed").inc()
        log.exception("batch failed")
    finally:
        last_duration.set(time.time() - started)


def push():
    try:
        push_to_gateway(PUSHGATEWAY, job="batch-etl", registry=registry,
                        grouping_key={"instance": INSTANCE})
    except OSError as err:
        log.warning("push to %s failed: %s", PUSHGATEWAY, err)


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    start_http_server(METRICS_PORT, addr=HOST, registry=registry)
    log.info("serving /metrics on %s:%d, pushing to %s", HOST, METRICS_PORT, PUSHGATEWAY)
    while True:
        run_batch()
        push()
        time.sleep(INTERVAL_SECONDS)


if __name__ == "__main__":
    main()

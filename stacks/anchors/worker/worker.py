"""Queue worker: takes jobs off the queues and runs them.

Progress is pushed to the Pushgateway as job "queue-worker", instance
WORKER_ID after every round, and served on :METRICS_PORT/metrics.
"""
import logging
import os
import random
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, pushadd_to_gateway, start_http_server

# PUSH_GATEWAY (URL) wins; PUSHGATEWAY_ADDR (host:port, from worker.env) is the old name.
GATEWAY = os.environ.get("PUSH_GATEWAY") or os.environ.get("PUSHGATEWAY_ADDR", "pushgateway:9091")
WORKER_ID = os.environ.get("WORKER_ID", "worker-1")
QUEUES = os.environ.get("QUEUES", "emails,thumbnails").split(",")
METRICS_PORT = int(os.environ.get("METRICS_PORT", "9100"))
HOST = os.environ.get("HOST", "0.0.0.0")
ROUND_SECONDS = float(os.environ.get("ROUND_SECONDS", "10"))

log = logging.getLogger("worker")

registry = CollectorRegistry()
jobs_processed = Counter(
    "worker_jobs_processed", "Jobs taken off a queue, by outcome.", ["queue", "status"], registry=registry
)
job_duration = Histogram(
    "worker_job_duration_seconds", "Time to run one job.", ["queue"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=registry,
)
queue_depth = Gauge("worker_queue_depth", "Jobs waiting in the queue.", ["queue"], registry=registry)


def run_job(queue):
    """Stand-in for the real job handlers."""
    with job_duration.labels(queue=queue).time():
        time.sleep(random.uniform(0.001, 0.02))
        if random.random() < 0.03:
            raise RuntimeError("handler failed")


def work_round():
    for queue in QUEUES:
        waiting = random.randint(0, 40)
        queue_depth.labels(queue=queue).set(waiting)
        for _ in range(min(waiting, 10)):
            try:
                run_job(queue)
                jobs_processed.labels(queue=queue, status="done").inc()
            except RuntimeError:
                jobs_processed.labels(queue=queue, status="failed").inc()


def push():
    try:
        pushadd_to_gateway(GATEWAY, job="queue-worker", registry=registry,
                           grouping_key={"instance": WORKER_ID})
    except OSError as err:
        log.warning("push to %s failed: %s", GATEWAY, err)


def main():
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "info").upper())
    start_http_server(METRICS_PORT, addr=HOST, registry=registry)
    log.info("worker %s serving /metrics on :%d, pushing to %s", WORKER_ID, METRICS_PORT, GATEWAY)
    while True:
        work_round()
        push()
        time.sleep(ROUND_SECONDS)


if __name__ == "__main__":
    main()

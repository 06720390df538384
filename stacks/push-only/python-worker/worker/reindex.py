"""Search reindexer: rebuilds stale documents in rounds and pushes its
counters to the Pushgateway after every round (job "reindexer").

It serves nothing: the Pushgateway is the only way its metrics get out.
"""
import logging
import os
import random
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway

GATEWAY = os.environ.get("PUSHGATEWAY", "pushgateway:9091")
ROUND_SECONDS = float(os.environ.get("ROUND_SECONDS", "30"))

log = logging.getLogger("reindexer")

registry = CollectorRegistry()
documents = Counter(
    "reindex_documents", "Documents rebuilt, by outcome.", ["status"], registry=registry
)
backlog = Gauge("reindex_backlog_documents", "Stale documents left.", registry=registry)


def run_round():
    stale = random.randint(0, 500)
    backlog.set(stale)
    for _ in range(min(stale, 50)):
        documents.labels(status="done" if random.random() > 0.02 else "failed").inc()


def main():
    logging.basicConfig(level=logging.INFO)
    while True:
        run_round()
        try:
            push_to_gateway(GATEWAY, job="reindexer", registry=registry)
        except OSError as err:
            log.warning("push to %s failed: %s", GATEWAY, err)
        time.sleep(ROUND_SECONDS)


if __name__ == "__main__":
    main()

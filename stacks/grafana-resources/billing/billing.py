"""Billing service: charges invoices and pushes billing metrics.

Pushes to PUSHGATEWAY_HOST:PUSHGATEWAY_PORT as job "billing", instance
"billing-1" every PUSH_INTERVAL_SECONDS; also serves :METRICS_PORT/metrics.
"""
import os
import random
import threading
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, push_to_gateway, start_http_server

GATEWAY = "%s:%s" % (os.environ.get("PUSHGATEWAY_HOST", "pushgateway"), os.environ.get("PUSHGATEWAY_PORT", "9091"))
METRICS_PORT = int(os.environ.get("METRICS_PORT", "9200"))
HOST = os.environ.get("HOST", "0.0.0.0")
PUSH_INTERVAL_SECONDS = float(os.environ.get("PUSH_INTERVAL_SECONDS", "15"))

registry = CollectorRegistry()
invoices = Counter("billing_invoices", "Invoices charged, by outcome.", ["status"], registry=registry)
revenue = Counter("billing_revenue_cents", "Revenue charged, in cents.", ["currency"], registry=registry)
payment_duration = Histogram(
    "billing_payment_duration_seconds", "Time the payment provider took to answer.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5), registry=registry,
)
outstanding = Gauge("billing_outstanding_invoices", "Invoices waiting to be charged.", registry=registry)


def charge_forever():
    while True:
        outstanding.set(random.randint(0, 25))
        with payment_duration.time():
            time.sleep(random.uniform(0.05, 0.3))
        status = random.choices(["paid", "failed", "refunded"], weights=[90, 7, 3])[0]
        invoices.labels(status=status).inc()
        if status == "paid":
            revenue.labels(currency=random.choice(["eur", "usd"])).inc(random.randint(500, 5000))


def main():
    start_http_server(METRICS_PORT, addr=HOST, registry=registry)
    threading.Thread(target=charge_forever, daemon=True).start()
    while True:
        time.sleep(PUSH_INTERVAL_SECONDS)
        try:
            push_to_gateway(GATEWAY, job="billing", registry=registry, grouping_key={"instance": "billing-1"})
        except OSError as err:
            print(f"push to {GATEWAY} failed: {err}", flush=True)


if __name__ == "__main__":
    main()

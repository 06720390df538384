"""Invoices service (Flask). Counts the invoices it creates and pushes the counts to
the Pushgateway after every request that changes them."""
import os

from flask import Flask, jsonify
from prometheus_client import CollectorRegistry, Counter, pushadd_to_gateway

GATEWAY = os.environ.get("PUSHGATEWAY", "pushgateway:9091")

registry = CollectorRegistry()
invoices = Counter("invoices_created", "Invoices created, by currency.", ["currency"], registry=registry)

app = Flask(__name__)


def push():
    try:
        pushadd_to_gateway(GATEWAY, job="invoices", registry=registry)
    except OSError as err:
        app.logger.warning("push to %s failed: %s", GATEWAY, err)


@app.post("/invoices")
def create_invoice():
    invoices.labels(currency="eur").inc()
    push()
    return jsonify(ok=True), 201


@app.get("/")
def health():
    return "ok\n"


if __name__ == "__main__":
    app.run(host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "5000")))

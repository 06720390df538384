"""Shipping quotes (FastAPI). Quotes are counted in prometheus_client's default
registry; a background thread pushes it to the Pushgateway every ROUND_SECONDS."""
import os
import threading
import time

import uvicorn
from fastapi import FastAPI
from prometheus_client import REGISTRY, Counter, push_to_gateway

PUSHGATEWAY = os.environ.get("PUSHGATEWAY", "pushgateway:9091")
ROUND_SECONDS = float(os.environ.get("ROUND_SECONDS", "15"))

quotes = Counter("shipping_quotes", "Quotes given, by carrier.", ["carrier"])

app = FastAPI(title="shipping")


@app.get("/")
def health():
    return {"ok": True}


@app.get("/quote")
def quote(carrier: str = "post"):
    quotes.labels(carrier=carrier).inc()
    return {"carrier": carrier, "price": 4.9}


def push_forever():
    while True:
        try:
            push_to_gateway(PUSHGATEWAY, job="shipping", registry=REGISTRY)
        except OSError as err:
            print(f"push to {PUSHGATEWAY} failed: {err}", flush=True)
        time.sleep(ROUND_SECONDS)


@app.on_event("startup")
def start_pushing():
    threading.Thread(target=push_forever, daemon=True).start()


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "8000")))

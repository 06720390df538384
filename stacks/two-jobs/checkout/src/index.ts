// Checkout: takes orders over HTTP. Order counters are pushed to the
// Pushgateway every 20 s as job "checkout", instance "checkout-1", and served
// on /metrics.
import http from "node:http";
import { Counter, Pushgateway, Registry, collectDefaultMetrics } from "prom-client";

const port = Number(process.env.CHECKOUT_PORT ?? 7070);
const gatewayUrl = process.env.PUSHGATEWAY_URL ?? "http://pushgateway:9091/";

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const orders = new Counter({
  name: "checkout_orders_total",
  help: "Orders taken, by outcome.",
  labelNames: ["status"],
  registers: [registry],
});

const gateway = new Pushgateway(gatewayUrl, {}, registry);
setInterval(() => {
  gateway
    .pushAdd({ jobName: "checkout", groupings: { instance: "checkout-1" } })
    .catch((err: Error) => console.error(`push to ${gatewayUrl} failed: ${err.message}`));
}, 20_000);

http
  .createServer(async (req, res) => {
    if (req.url === "/metrics") {
      res.setHeader("Content-Type", registry.contentType);
      res.end(await registry.metrics());
      return;
    }
    if (req.method === "POST" && req.url === "/orders") {
      const ok = Math.random() > 0.01;
      orders.inc({ status: ok ? "ok" : "failed" });
      res.statusCode = ok ? 201 : 502;
      res.end();
      return;
    }
    res.statusCode = 404;
    res.end();
  })
  .listen(port, () => console.log(`checkout on :${port}, pushing to ${gatewayUrl}`));

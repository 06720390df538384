'use strict';

// Small JSON API. Request metrics are pushed to the Pushgateway as job "api"
// (no instance in the grouping key) and served on GET /metrics.

const http = require('http');
const client = require('prom-client');

const HOST = process.env.HOST || '0.0.0.0';
const PORT = Number(process.env.PORT || 3000);
const PUSHGATEWAY_URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';
const PUSH_INTERVAL_SECONDS = Number(process.env.PUSH_INTERVAL_SECONDS || 10);

const registry = new client.Registry();

const requests = new client.Counter({
  name: 'api_requests_total',
  help: 'Requests handled, by route and status.',
  labelNames: ['route', 'status'],
  registers: [registry],
});

const duration = new client.Histogram({
  name: 'api_request_duration_seconds',
  help: 'Request handling time.',
  labelNames: ['route'],
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2],
  registers: [registry],
});

const inflight = new client.Gauge({
  name: 'api_inflight_requests',
  help: 'Requests being handled right now.',
  registers: [registry],
});

const users = [{ id: 1, name: 'ada' }, { id: 2, name: 'grace' }];
const routes = {
  '/users': () => [200, users],
  '/orders': () => (Math.random() < 0.02 ? [503, { error: 'orders database unavailable' }] : [200, []]),
  '/healthz': () => [200, { ok: true }],
};

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (path === '/metrics') {
    res.writeHead(200, { 'Content-Type': registry.contentType });
    res.end(await registry.metrics());
    return;
  }
  const route = routes[path] ? path : 'other';
  const end = duration.startTimer({ route });
  inflight.inc();
  const [status, body] = routes[path] ? routes[path]() : [404, { error: 'not found' }];
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
  inflight.dec();
  end();
  requests.inc({ route, status: String(status) });
});

const gateway = new client.Pushgateway(PUSHGATEWAY_URL, {}, registry);

setInterval(() => {
  gateway.pushAdd({ jobName: 'api' }).catch((err) => {
    console.error(`push failed: ${err.message}`);
  });
}, PUSH_INTERVAL_SECONDS * 1000);

server.listen(PORT, HOST, () => console.log(`api on ${HOST}:${PORT}`));
process.on('SIGTERM', () => process.exit(0));

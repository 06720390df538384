'use strict';

// Metrics API: the website reports page views here (POST /events). Counters
// live in prom-client's default registry and are pushed to the Pushgateway
// every PUSH_INTERVAL_SECONDS.

const http = require('http');
const client = require('prom-client');

const HOST = process.env.HOST || '0.0.0.0';
const PORT = Number(process.env.PORT || 8080);
const PUSHGATEWAY_URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';
const PUSH_INTERVAL_SECONDS = Number(process.env.PUSH_INTERVAL_SECONDS || 15);
const MAX_BODY_BYTES = 4096;

const register = client.register;
client.collectDefaultMetrics({ register });

const pageViews = new client.Counter({
  name: 'page_views_total',
  help: 'Page views reported by the website.',
  labelNames: ['page', 'country'],
});

const httpRequests = new client.Counter({
  name: 'http_requests_total',
  help: 'HTTP requests handled by the metrics API.',
  labelNames: ['method', 'code'],
});

const httpDuration = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time spent handling HTTP requests.',
  labelNames: ['method', 'route'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
});

function send(res, code, body, headers = {}) {
  res.writeHead(code, {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Content-Type',
    ...headers,
  });
  res.end(body);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

// Keep label values to a small known set so a bad client cannot explode cardinality.
function cleanPage(page) {
  return typeof page === 'string' && /^\/[a-z0-9/_-]{0,64}$/.test(page) ? page : 'other';
}

function cleanCountry(country) {
  return typeof country === 'string' && /^[a-z]{2}$/.test(country) ? country : 'unknown';
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const route = url.pathname;

  if (req.method === 'OPTIONS') {
    return send(res, 204, '');
  }
  if (req.method === 'POST' && route === '/events') {
    try {
      const event = await readJson(req);
      pageViews.inc({ page: cleanPage(event.page), country: cleanCountry(event.country) });
      return send(res, 204, '');
    } catch (err) {
      return send(res, 400, `bad event: ${err.message}\n`);
    }
  }
  if (req.method === 'GET' && route === '/healthz') {
    return send(res, 200, 'ok\n');
  }
  return send(res, 404, 'not found\n');
}

const server = http.createServer((req, res) => {
  const route = new URL(req.url, 'http://localhost').pathname;
  const known = ['/events', '/healthz'].includes(route) ? route : 'other';
  const endTimer = httpDuration.startTimer({ method: req.method, route: known });
  res.on('finish', () => {
    httpRequests.inc({ method: req.method, code: String(res.statusCode) });
    endTimer();
  });
  handle(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) send(res, 500, 'internal error\n');
  });
});

// Push the whole registry as job "pushgateway" (the dashboards select it there), instance "app-1".
const gateway = new client.Pushgateway(PUSHGATEWAY_URL, { timeout: 5000 }, register);

async function push() {
  try {
    await gateway.pushAdd({ jobName: 'pushgateway', groupings: { instance: 'app-1' } });
  } catch (err) {
    console.error(`push to ${PUSHGATEWAY_URL} failed: ${err.message}`);
  }
}

const pushTimer = setInterval(push, PUSH_INTERVAL_SECONDS * 1000);

server.listen(PORT, HOST, () => {
  console.log(`metrics-api listening on ${HOST}:${PORT}, pushing to ${PUSHGATEWAY_URL} every ${PUSH_INTERVAL_SECONDS}s`);
});

function shutdown() {
  clearInterval(pushTimer);
  server.close();
  // One last push so the gateway holds the final counts.
  push().finally(() => process.exit(0));
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

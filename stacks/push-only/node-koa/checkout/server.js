// Checkout service (Koa). Counts checkouts with prom-client and pushes them to the
// Pushgateway: every PUSH_INTERVAL_SECONDS, and once more when it shuts down.
'use strict';

const Koa = require('koa');
const { Registry, Counter, Pushgateway, collectDefaultMetrics } = require('prom-client');

const PORT = Number(process.env.PORT || 4000);
const HOST = process.env.HOST || '0.0.0.0';
const GATEWAY_URL = process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091';
const PUSH_EVERY_MS = Number(process.env.PUSH_INTERVAL_SECONDS || 10) * 1000;

const registry = new Registry();
collectDefaultMetrics({ register: registry });

const checkouts = new Counter({
	name: 'checkouts_total',
	help: 'Checkouts, by result.',
	labelNames: ['result'],
	registers: [registry],
});

const gateway = new Pushgateway(GATEWAY_URL, { timeout: 2000 }, registry);

const app = new Koa();

app.use(async (ctx) => {
	if (ctx.method === 'POST' && ctx.path === '/checkout') {
		const ok = Math.random() > 0.1;
		checkouts.inc({ result: ok ? 'ok' : 'declined' });
		ctx.status = ok ? 201 : 402;
		return;
	}
	ctx.status = 404;
});

// Push failures are logged, never thrown: a gateway outage must not take checkouts down.
async function flush(reason) {
	try {
		await gateway.pushAdd({ jobName: 'checkout', groupings: { instance: process.env.HOSTNAME || 'checkout-1' } });
	} catch (err) {
		console.error(`push (${reason}) failed: ${err.message}`);
	}
}

const flushTimer = setInterval(() => flush('interval'), PUSH_EVERY_MS);

const server = app.listen(PORT, HOST, () => {
	console.log(`checkout on ${HOST}:${PORT}`);
	gateway.pushAdd({ jobName: 'checkout', groupings: { instance: process.env.HOSTNAME || 'checkout-1' } }).catch(() => {});
});

process.on('SIGTERM', async () => {
	clearInterval(flushTimer);
	try {
		server.close();
	} finally {
		await flush('shutdown');
		process.exit(0);
	}
});

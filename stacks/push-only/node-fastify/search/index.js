'use strict'

// Search API (Fastify). Queries are counted in prom-client's default registry, which is
// pushed to the Pushgateway every PUSH_INTERVAL_SECONDS.
const fastify = require('fastify')
const client = require('prom-client')

const PORT = Number(process.env.PORT || 8080)
const HOST = process.env.HOST || '0.0.0.0'
const PUSH_INTERVAL_MS = Number(process.env.PUSH_INTERVAL_SECONDS || 15) * 1000

client.collectDefaultMetrics()
const queries = new client.Counter({
  name: 'search_queries_total',
  help: 'Search queries, by index.',
  labelNames: ['index']
})
const gateway = new client.Pushgateway(process.env.PUSHGATEWAY_URL || 'http://pushgateway:9091')

const app = fastify({ logger: false })

app.get('/search', async (request) => {
  const index = request.query.index === 'docs' ? 'docs' : 'products'
  queries.inc({ index })
  return { index, hits: [] }
})

const pushTimer = setInterval(async () => {
  try {
    await gateway.pushAdd({ jobName: 'search-api' })
  } catch (err) {
    app.log.warn({ err }, 'push failed')
  }
}, PUSH_INTERVAL_MS)
pushTimer.unref()

app.listen({ port: PORT, host: HOST }).then(() => {
  console.log(`search-api on ${HOST}:${PORT}`)
})

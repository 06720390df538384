// Orders API: counts orders and pushes the counts to the Pushgateway every
// PUSH_INTERVAL_SECONDS (job "orders-api", instance from HOSTNAME).
const express = require("express")
const client = require("prom-client")

const PORT = Number(process.env.PORT || 3000)
const HOST = process.env.HOST || "0.0.0.0"
const PUSHGATEWAY_URL = process.env.PUSHGATEWAY_URL || "http://pushgateway:9091"
const PUSH_INTERVAL_SECONDS = Number(process.env.PUSH_INTERVAL_SECONDS || 10)

const registry = new client.Registry()
client.collectDefaultMetrics({ register: registry })

const orders = new client.Counter({
    name: "orders_created_total",
    help: "Orders created, by payment method.",
    labelNames: ["method"],
    registers: [registry],
})

const app = express()
app.use(express.json())

app.post("/orders", (req, res) => {
    const method = ["card", "invoice"].includes(req.body.method) ? req.body.method : "other"
    orders.inc({ method })
    res.status(201).json({ ok: true })
})

const gateway = new client.Pushgateway(PUSHGATEWAY_URL, {}, registry)

setInterval(() => {
    gateway
        .pushAdd({ jobName: "orders-api", groupings: { instance: process.env.HOSTNAME || "orders-1" } })
        .catch((err) => console.error(`push failed: ${err.message}`))
}, PUSH_INTERVAL_SECONDS * 1000)

app.listen(PORT, HOST, () => console.log(`orders-api on ${HOST}:${PORT}`))

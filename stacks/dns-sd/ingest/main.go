// ingest reads records from the sources and counts them. After every batch
// it pushes its registry to the Pushgateway as job "ingest", instance
// INGEST_INSTANCE, and it serves the same registry on LISTEN_ADDR/metrics.
package main

import (
	"log"
	"math/rand"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
)

var (
	records = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ingest_records_total",
		Help: "Records read, by source.",
	}, []string{"source"})
	lastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ingest_last_success_timestamp_seconds",
		Help: "Unix time of the last batch that completed.",
	})
)

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func main() {
	gateway := os.Getenv("PUSHGATEWAY_URL")
	instance := env("INGEST_INSTANCE", "ingest-1")
	registry := prometheus.NewRegistry()
	registry.MustRegister(records, lastSuccess)

	go func() {
		http.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
		log.Fatal(http.ListenAndServe(env("LISTEN_ADDR", ":9400"), nil))
	}()

	pusher := push.New(gateway, "ingest").Grouping("instance", instance).Gatherer(registry)
	for {
		for _, source := range []string{"kafka", "s3"} {
			records.WithLabelValues(source).Add(float64(rand.Intn(500)))
		}
		lastSuccess.SetToCurrentTime()
		if gateway != "" {
			if err := pusher.Push(); err != nil {
				log.Printf("push to %s failed: %v", gateway, err)
			}
		}
		time.Sleep(30 * time.Second)
	}
}

// Command thumbnailer renders thumbnails for new uploads.
//
// It has no HTTP server of its own: its counters reach Prometheus through the
// Pushgateway, pushed every PUSH_INTERVAL_SECONDS (job "thumbnailer").
package main

import (
	"log"
	"math/rand"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

var (
	rendered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "thumbnails_rendered_total",
		Help: "Thumbnails rendered, by size.",
	}, []string{"size"})
	renderSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "thumbnail_render_seconds",
		Help:    "Time to render one thumbnail.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1},
	})
	queued = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "thumbnail_queue_uploads",
		Help: "Uploads waiting for their thumbnails.",
	})
)

// seconds reads a duration in (fractional) seconds from the environment.
func seconds(name string, fallback time.Duration) time.Duration {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return time.Duration(v * float64(time.Second))
	}
	return fallback
}

func render(size string) {
	start := time.Now()
	time.Sleep(time.Duration(20+rand.Intn(80)) * time.Millisecond)
	rendered.WithLabelValues(size).Inc()
	renderSeconds.Observe(time.Since(start).Seconds())
}

func main() {
	registry := prometheus.NewRegistry()
	registry.MustRegister(rendered, renderSeconds, queued)

	gateway := os.Getenv("PUSHGATEWAY_URL")
	if gateway == "" {
		gateway = "http://pushgateway:9091"
	}
	pusher := push.New(gateway, "thumbnailer").Gatherer(registry)

	// Push what we have every interval; a failed push is retried on the next tick.
	ticker := time.NewTicker(seconds("PUSH_INTERVAL_SECONDS", 15*time.Second))
	defer ticker.Stop()
	go func() {
		for range ticker.C {
			if err := pusher.Add(); err != nil {
				log.Printf("push to %s failed: %v", gateway, err)
			}
		}
	}()

	log.Println("thumbnailer: waiting for uploads")
	for {
		queued.Set(float64(rand.Intn(40)))
		for _, size := range []string{"small", "medium"} {
			render(size)
		}
	}
}

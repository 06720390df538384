// Command resizer answers image resize requests over HTTP. Its request
// counters go to the Pushgateway (job "resizer") from a background loop.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
)

var (
	registry = prometheus.NewRegistry()
	resized  = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "resizer_requests_total",
		Help: "Resize requests, by outcome.",
	}, []string{"outcome"})
	inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "resizer_requests_in_flight",
		Help: "Requests being resized now.",
	})
)

func init() {
	registry.MustRegister(resized, inFlight)
}

// pushEvery replaces the job's group on the gateway every interval.
func pushEvery(pusher *push.Pusher, interval time.Duration) {
	for {
		time.Sleep(interval)
		if err := pusher.Push(); err != nil {
			log.Println("push:", err)
		}
	}
}

func resize(w http.ResponseWriter, r *http.Request) {
	inFlight.Inc()
	defer inFlight.Dec()
	width, err := strconv.Atoi(r.URL.Query().Get("width"))
	if err != nil || width <= 0 {
		resized.WithLabelValues("bad_request").Inc()
		http.Error(w, "width must be a positive number", http.StatusBadRequest)
		return
	}
	resized.WithLabelValues("ok").Inc()
	fmt.Fprintf(w, "resized to %dpx\n", width)
}

func main() {
	interval := 15 * time.Second
	if s, err := strconv.ParseFloat(os.Getenv("PUSH_INTERVAL_SECONDS"), 64); err == nil {
		interval = time.Duration(s * float64(time.Second))
	}
	pusher := push.New(os.Getenv("PUSHGATEWAY_URL"), "resizer").Gatherer(registry)
	go pushEvery(pusher, interval)

	http.HandleFunc("/resize", resize)
	addr := ":" + os.Getenv("PORT")
	log.Printf("resizer listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}

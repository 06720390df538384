package com.example.reports;

import java.io.IOException;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.exporter.PushGateway;

/**
 * Builds the nightly sales reports, one region at a time, and pushes its
 * counters to the Pushgateway (job "reports") every 30 seconds.
 */
public final class ReportJob {

    private static final CollectorRegistry REGISTRY = new CollectorRegistry();

    private static final Counter REPORTS = Counter.build()
            .name("reports_built_total")
            .help("Reports built, by region.")
            .labelNames("region")
            .register(REGISTRY);

    private static final Gauge LAST_RUN = Gauge.build()
            .name("reports_last_run_timestamp_seconds")
            .help("When the last report was built.")
            .register(REGISTRY);

    private static final PushGateway GATEWAY =
            new PushGateway(System.getenv().getOrDefault("PUSHGATEWAY_ADDRESS", "pushgateway:9091"));

    private ReportJob() {
    }

    static void push() {
        try {
            GATEWAY.pushAdd(REGISTRY, "reports");
        } catch (IOException e) {
            System.err.println("push to the gateway failed: " + e.getMessage());
        }
    }

    public static void main(String[] args) throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        // Push every 30 seconds, whether or not a report was built.
        scheduler.scheduleAtFixedRate(ReportJob::push, 0, 30, TimeUnit.SECONDS);

        Random random = new Random();
        while (true) {
            for (String region : new String[] {"emea", "amer", "apac"}) {
                REPORTS.labels(region).inc();
                LAST_RUN.setToCurrentTime();
            }
            Thread.sleep(1000 + random.nextInt(4000));
        }
    }
}

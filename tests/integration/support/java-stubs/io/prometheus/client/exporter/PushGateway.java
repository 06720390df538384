package io.prometheus.client.exporter;

import java.io.IOException;

import io.prometheus.client.CollectorRegistry;

/** A stand-in for simpleclient_pushgateway's client: its constructor and push calls. */
public class PushGateway {
    public PushGateway(String address) {
    }

    public void push(CollectorRegistry registry, String job) throws IOException {
    }

    public void pushAdd(CollectorRegistry registry, String job) throws IOException {
    }

    public void delete(String job) throws IOException {
    }
}

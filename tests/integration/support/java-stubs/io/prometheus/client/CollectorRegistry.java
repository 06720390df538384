package io.prometheus.client;

/** A stand-in for simpleclient's registry: enough of its API to compile the apps against. */
public class CollectorRegistry {
    public static final CollectorRegistry defaultRegistry = new CollectorRegistry();
}

package com.example.billing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

@SpringBootApplication
@RestController
public class BillingApplication {
    private final Counter invoices;

    public BillingApplication(MeterRegistry registry) {
        this.invoices = Counter.builder("billing_invoices").register(registry);
    }

    @PostMapping("/invoices")
    public String invoice() {
        invoices.increment();
        return "ok";
    }

    public static void main(String[] args) {
        SpringApplication.run(BillingApplication.class, args);
    }
}

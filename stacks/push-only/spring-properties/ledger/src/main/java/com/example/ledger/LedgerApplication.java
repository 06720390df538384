package com.example.ledger;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;
import org.springframework.scheduling.annotation.Scheduled;

@SpringBootApplication
@EnableScheduling
public class LedgerApplication {
	private final MeterRegistry registry;

	public LedgerApplication(MeterRegistry registry) {
		this.registry = registry;
	}

	@Scheduled(cron = "0 0 2 * * *")
	public void reconcile() {
		registry.counter("ledger_reconciliations").increment();
	}

	public static void main(String[] args) {
		SpringApplication.run(LedgerApplication.class, args);
	}
}

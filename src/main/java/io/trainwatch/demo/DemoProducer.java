package io.trainwatch.demo;

import io.trainwatch.event.JsonReader;
import io.trainwatch.kafka.RateLimitedProducer;
import io.trainwatch.kafka.TopicAdmin;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The demo as a producer only, for a job running elsewhere (the Docker Compose stack): the {@link
 * DemoRuns} with every event time shifted so that they end now (the dashboards show the last
 * hours), at a fixed rate, to one topic; the malformed records go as they are.
 */
public final class DemoProducer {
    private DemoProducer() {}

    public static void run(
            String bootstrapServers, String eventsTopic, int rate, PrintStream console)
            throws InterruptedException {
        long t0 = System.nanoTime();
        List<String[]> stamped = endingNow(DemoRuns.records());
        // the stack's job creates its topics when it starts; the producer may come first, so it
        // creates the events topic (broker defaults)
        TopicAdmin.createIfMissing(bootstrapServers, eventsTopic);
        console.printf(
                "demo producer: streaming %d events of %d runs and 3 malformed records to %s %s at %d events/s%n",
                stamped.size() - 3, DemoRuns.FAULTS.size(), bootstrapServers, eventsTopic, rate);
        RateLimitedProducer producer;
        try {
            producer =
                    new RateLimitedProducer(
                            bootstrapServers, eventsTopic, rate, LiveDemo.PRODUCER_SETTINGS);
        } catch (RuntimeException e) {
            throw new IllegalStateException(
                    "sending to Kafka at "
                            + bootstrapServers
                            + " failed after 0 events: "
                            + e.getMessage());
        }
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        Thread sending =
                new Thread(
                        () -> {
                            try {
                                LiveDemo.sendAll(producer, stamped);
                            } catch (RuntimeException e) {
                                failure.set(e);
                            }
                        },
                        "demo-producer");
        sending.start();
        while (sending.isAlive()) {
            sending.join(2000);
            console.printf(
                    "  %6.1fs progress: %d/%d events sent%n",
                    LiveDemo.seconds(t0), producer.sent(), stamped.size());
        }
        if (failure.get() != null) {
            throw new IllegalStateException(
                    "sending to Kafka at "
                            + bootstrapServers
                            + " failed after "
                            + producer.sent()
                            + " events: "
                            + failure.get().getMessage());
        }
        console.printf(
                "done: %d events sent in %.1f s; the job's alerts go to its alerts topic, its series and alerts to PostgreSQL (Grafana)%n",
                producer.sent(), LiveDemo.seconds(t0));
    }

    /**
     * The records with every event time shifted so that the last is now; the runs keep their own
     * spacing (half a second per step).
     */
    static List<String[]> endingNow(List<String[]> records) {
        List<ObjectNode> timed = new ArrayList<>();
        long last = Long.MIN_VALUE;
        for (String[] kv : records) {
            ObjectNode o = null;
            try {
                if (JsonReader.parse(kv[1]) instanceof ObjectNode n && n.path("time").isNumber()) {
                    o = n;
                    last = Math.max(last, n.get("time").asLong());
                }
            } catch (RuntimeException malformed) {
                // sent as it is, for the job to dead-letter
            }
            timed.add(o);
        }
        long shift = last == Long.MIN_VALUE ? 0 : System.currentTimeMillis() - last;
        List<String[]> stamped = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            ObjectNode o = timed.get(i);
            if (o != null) {
                o.put("time", o.get("time").asLong() + shift);
            }
            stamped.add(
                    o == null ? records.get(i) : new String[] {records.get(i)[0], o.toString()});
        }
        return stamped;
    }
}

package io.trainwatch.demo;

import io.trainwatch.event.JsonReader;
import io.trainwatch.notify.WebhookRequest;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The demo's stand-in for a team's alert receiver: a real HTTP server on the loopback interface
 * that the job's {@code webhook} notifications are POSTed to, printing each one as it arrives. It
 * answers 200 and counts a repeated Idempotency-Key once, as a receiver should.
 */
final class DemoWebhookReceiver implements AutoCloseable {
    static final String PATH = "/trainwatch";

    private final HttpServer server;
    private final PrintStream console;
    private final long t0;
    private final Set<String> keys = new HashSet<>();
    private final AtomicInteger received = new AtomicInteger();
    private final AtomicInteger repeated = new AtomicInteger();

    private DemoWebhookReceiver(HttpServer server, PrintStream console, long t0) {
        this.server = server;
        this.console = console;
        this.t0 = t0;
    }

    /** Starts on a free loopback port; {@code t0} is the demo's start (nanoTime) for timestamps. */
    static DemoWebhookReceiver start(PrintStream console, long t0) throws IOException {
        HttpServer server =
                HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        DemoWebhookReceiver receiver = new DemoWebhookReceiver(server, console, t0);
        server.createContext(PATH, receiver::handle);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> daemon(r)));
        server.start();
        return receiver;
    }

    /** The URL to give {@code --notify webhook=}. */
    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + PATH;
    }

    /** Notifications received, repeats of an Idempotency-Key not counted. */
    int received() {
        return received.get();
    }

    int repeated() {
        return repeated.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String key = exchange.getRequestHeaders().getFirst(WebhookRequest.IDEMPOTENCY_KEY);
        boolean first;
        synchronized (keys) {
            first = keys.add(String.valueOf(key));
        }
        if (first) {
            received.incrementAndGet();
            print(body);
        } else {
            repeated.incrementAndGet();
        }
        exchange.sendResponseHeaders(200, -1);
        exchange.close();
    }

    private void print(String body) {
        try {
            JsonNode a = JsonReader.parse(body);
            console.printf(
                    Locale.ROOT,
                    "  %6.1fs NOTIFIED webhook: %s %s %s run %s step %d%n",
                    LiveDemo.seconds(t0),
                    a.path("status").asText().toUpperCase(Locale.ROOT),
                    a.path("severity").asText(),
                    a.path("kind").asText(),
                    a.path("run_id").asText(),
                    a.path("display_step").asLong());
        } catch (RuntimeException unreadable) {
            console.printf(
                    "  %6.1fs NOTIFIED webhook: %d bytes%n", LiveDemo.seconds(t0), body.length());
        }
    }

    private static Thread daemon(Runnable r) {
        Thread t = new Thread(r, "demo-webhook-receiver");
        t.setDaemon(true);
        return t;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

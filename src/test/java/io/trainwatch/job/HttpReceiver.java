package io.trainwatch.job;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A real HTTP receiver for notifications (the JDK's HttpServer on a free loopback port): it keeps
 * every request with the time it arrived and answers as its {@link Answer} says, including not at
 * all (a hanging receiver) until it is closed.
 */
final class HttpReceiver implements AutoCloseable {
    /** A status to answer, or {@link #HANG}. */
    interface Answer {
        int HANG = -1;

        /**
         * @param sinceFirst time since the first request this receiver got
         */
        int status(Duration sinceFirst);
    }

    /** One request received, and the status it got (HANG while it hangs). */
    record Request(
            long arrivedNanos, String path, Map<String, String> headers, String body, int status) {
        String header(String name) {
            return headers.entrySet().stream()
                    .filter(e -> e.getKey().equalsIgnoreCase(name))
                    .map(Map.Entry::getValue)
                    .findFirst()
                    .orElse(null);
        }

        boolean accepted() {
            return status >= 200 && status < 300;
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Answer answer;
    private final List<Request> requests = new ArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private long firstNanos = -1;

    private HttpReceiver(Answer answer) throws IOException {
        this.answer = answer;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    static HttpReceiver answering(Answer answer) throws IOException {
        return new HttpReceiver(answer);
    }

    static HttpReceiver healthy() throws IOException {
        return new HttpReceiver(sinceFirst -> 200);
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Accepted (2xx) requests per value of {@code key}, e.g. the Idempotency-Key. */
    Map<String, Long> acceptedBy(Function<Request, String> key) {
        return requests().stream()
                .filter(Request::accepted)
                .collect(Collectors.groupingBy(key, Collectors.counting()));
    }

    private void handle(HttpExchange exchange) throws IOException {
        long now = System.nanoTime();
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, String> headers =
                exchange.getRequestHeaders().entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get(0)));
        int status;
        synchronized (this) {
            if (firstNanos < 0) {
                firstNanos = now;
            }
            status = answer.status(Duration.ofNanos(now - firstNanos));
            requests.add(
                    new Request(now, exchange.getRequestURI().getPath(), headers, body, status));
        }
        if (status == Answer.HANG) {
            try {
                closing.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
        }
        exchange.sendResponseHeaders(status, -1);
        exchange.close();
    }

    /** Waits for {@code condition}, checking every 50 ms, failing after {@code timeout}. */
    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}

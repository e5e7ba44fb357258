package io.trainwatch.notify;

import io.trainwatch.event.Alert;
import io.trainwatch.event.JsonWriter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.tuple;

/** Against real HTTP receivers (the JDK's HttpServer on a free port), no mocks. */
class NotificationDispatcherTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET_PATH = "/services/T000/B000/s3cretPathToken";
    static final String TOKEN = "Bearer t0kens3cret";
    static final String ROUTING_KEY = "R0UT1NGKEYs3cret";
    static final Duration IDLE_WITHIN = Duration.ofSeconds(10);

    /** Fast retries so that an outage of a second sees several attempts. */
    static final DispatchSettings FAST =
            DispatchSettings.defaults()
                    .withDelays(Duration.ofMillis(50), Duration.ofMillis(200))
                    .withHorizon(Duration.ofSeconds(10));

    private final List<Receiver> receivers = new ArrayList<>();
    private final List<NotificationDispatcher> dispatchers = new ArrayList<>();
    private final List<DeliveryResult> callbacks = new CopyOnWriteArrayList<>();
    private final ByteArrayOutputStream dryRunBytes = new ByteArrayOutputStream();

    @AfterEach
    void closeEverything() {
        dispatchers.forEach(NotificationDispatcher::close);
        receivers.forEach(Receiver::close);
    }

    /** One request as the receiver saw it, with the status it answered. */
    record Received(long atNanos, String path, Headers headers, String body, int answered) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    /** How a receiver answers a request: the status, after setting headers or blocking. */
    interface Answer {
        int answer(Receiver self, String body, Headers responseHeaders) throws Exception;
    }

    /** A real HTTP server on a free loopback port that records every request. */
    static final class Receiver {
        final List<Received> received = new CopyOnWriteArrayList<>();
        final AtomicInteger concurrent = new AtomicInteger();
        final AtomicInteger maxConcurrent = new AtomicInteger();

        /** Released when the test ends, so that handlers that hang until then return. */
        final CountDownLatch testEnded = new CountDownLatch(1);

        private final HttpServer server;
        private final ExecutorService handlers = Executors.newCachedThreadPool();

        Receiver(Answer answer) throws IOException {
            server =
                    HttpServer.create(
                            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            // not the default single thread: a blocked handler must not block the others
            server.setExecutor(handlers);
            server.createContext("/", exchange -> handle(exchange, answer));
            server.start();
        }

        private void handle(HttpExchange exchange, Answer answer) throws IOException {
            int now = concurrent.incrementAndGet();
            maxConcurrent.accumulateAndGet(now, Math::max);
            try {
                long at = System.nanoTime();
                String body =
                        new String(
                                exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                int status;
                try {
                    status = answer.answer(this, body, exchange.getResponseHeaders());
                } catch (Exception e) {
                    status = 599;
                }
                received.add(
                        new Received(
                                at,
                                exchange.getRequestURI().getPath(),
                                exchange.getRequestHeaders(),
                                body,
                                status));
                concurrent.decrementAndGet();
                exchange.sendResponseHeaders(status, -1);
            } finally {
                exchange.close();
            }
        }

        String url(String path) {
            return "http://127.0.0.1:" + server.getAddress().getPort() + path;
        }

        /** Blocks (up to the end of the test) until the latch opens. */
        boolean hangUntil(CountDownLatch latch) throws InterruptedException {
            while (testEnded.getCount() > 0) {
                if (latch.await(10, TimeUnit.MILLISECONDS)) {
                    return true;
                }
            }
            return false;
        }

        void close() {
            testEnded.countDown();
            server.stop(0);
            handlers.shutdownNow();
        }
    }

    Receiver receiver(Answer answer) throws IOException {
        Receiver r = new Receiver(answer);
        receivers.add(r);
        return r;
    }

    NotificationDispatcher dispatcher(DispatchSettings settings, NotifyTarget... targets) {
        NotificationDispatcher d =
                new NotificationDispatcher(
                        List.of(targets),
                        "http://grafana:3000",
                        settings,
                        Clock.systemUTC(),
                        new PrintStream(dryRunBytes, true, StandardCharsets.UTF_8),
                        callbacks::add);
        dispatchers.add(d);
        return d;
    }

    static Function<String, String> env(Receiver receiver) {
        Map<String, String> env = new HashMap<>();
        env.put("HOOK_URL", receiver.url("/hook" + SECRET_PATH));
        env.put("SLACK_URL", receiver.url(SECRET_PATH));
        env.put("HOOK_AUTH", TOKEN);
        env.put("PD_KEY", ROUTING_KEY);
        return env::get;
    }

    static Alert alert(String runId, String kind, String severity, String status, int occurrences) {
        Alert a = new Alert();
        a.alertId = Alert.idFor(runId, kind, 10);
        a.incidentId = a.alertId;
        a.runId = runId;
        a.kind = kind;
        a.severity = severity;
        a.status = status;
        a.occurrences = occurrences;
        a.onsetStep = 10;
        a.step = 10L * occurrences;
        a.displayStep = a.step + 1;
        a.timeMillis = 1_700_000_000_000L;
        a.message = kind + " at step " + a.displayStep;
        return a;
    }

    /** {@code count} distinct open alerts of one run. */
    static List<Alert> openAlerts(int count) {
        List<Alert> alerts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            alerts.add(alert("run-" + i, "LOSS_SPIKE", "warning", Alert.OPEN, 1));
        }
        return alerts;
    }

    static void await(String what, Duration max, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + max + ": " + what);
            }
            // the poll interval of a wait on a condition with a deadline, not a wait itself
            LockSupport.parkNanos(5_000_000);
        }
    }

    static String idempotencyKey(Received r) {
        return r.headers().getFirst(WebhookRequest.IDEMPOTENCY_KEY);
    }

    @Test
    void shouldPostTheAlertJsonWithItsHeadersToAWebhook() throws Exception {
        Receiver hook = receiver((self, body, headers) -> 200);
        NotifyTarget target =
                NotifyTarget.parse("webhook=env:HOOK_URL;auth=env:HOOK_AUTH", env(hook));
        NotificationDispatcher d = dispatcher(DispatchSettings.defaults(), target);
        Alert alert = alert("gpt2-small", "LOSS_SPIKE", "warning", Alert.OPEN, 1);

        d.submit(new PendingNotification(0, alert));

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(hook.received).hasSize(1);
        Received r = hook.received.get(0);
        assertThat(r.path()).isEqualTo("/hook" + SECRET_PATH);
        assertThat(r.body()).isEqualTo(JsonWriter.alert(alert));
        assertThat(r.headers().getFirst("Content-Type")).isEqualTo("application/json");
        assertThat(idempotencyKey(r)).isEqualTo(WebhookRequest.idempotencyKey(alert));
        assertThat(r.headers().getFirst("Authorization")).isEqualTo(TOKEN);

        List<DeliveryResult> results = d.drainResults();
        assertThat(results).hasSize(1);
        DeliveryResult result = results.get(0);
        assertThat(result.delivered()).isTrue();
        assertThat(result.lastStatus()).isEqualTo(200);
        assertThat(result.reason()).isEqualTo("HTTP 200 on attempt 1");
        assertThat(result.notification().attempts).isEqualTo(1);
        assertThat(result.notification().firstAttemptMillis).isPositive();
        assertThat(result.notification().key()).isEqualTo(new PendingNotification(0, alert).key());
        assertThat(callbacks).containsExactly(result);
        assertThat(d.drainResults()).isEmpty();
        assertThat(d.deliveredCount()).isEqualTo(1);
        assertThat(d.failedCount()).isZero();
        assertThat(d.undelivered()).isEmpty();
    }

    @Test
    void shouldDeliverEveryNotificationExactlyOnceThroughAReceiverOutage() throws Exception {
        AtomicLong firstRequestNanos = new AtomicLong();
        Receiver hook =
                receiver(
                        (self, body, headers) -> {
                            firstRequestNanos.compareAndSet(0, System.nanoTime());
                            boolean down =
                                    System.nanoTime() - firstRequestNanos.get()
                                            < TimeUnit.SECONDS.toNanos(1);
                            return down ? 500 : 200;
                        });
        NotificationDispatcher d =
                dispatcher(FAST, NotifyTarget.parse("webhook=env:HOOK_URL", env(hook)));
        List<Alert> alerts = openAlerts(10);

        alerts.forEach(a -> d.submit(new PendingNotification(0, a)));

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        List<String> acceptedKeys =
                hook.received.stream()
                        .filter(r -> r.answered() == 200)
                        .map(r -> idempotencyKey(r))
                        .toList();
        assertThat(acceptedKeys)
                .containsExactlyInAnyOrderElementsOf(
                        alerts.stream().map(WebhookRequest::idempotencyKey).toList())
                .doesNotHaveDuplicates();
        assertThat(hook.received.stream().filter(r -> r.answered() == 500)).isNotEmpty();
        List<DeliveryResult> results = d.drainResults();
        assertThat(results).hasSize(10).allMatch(DeliveryResult::delivered);
        assertThat(results).allMatch(r -> r.notification().attempts > 1, "retried");
        assertThat(d.deliveredCount()).isEqualTo(10);
        assertThat(d.failedCount()).isZero();
    }

    @Test
    void shouldGiveUpAt404AtOnceWithoutASecretInTheReason() throws Exception {
        Receiver gone = receiver((self, body, headers) -> 404);
        NotificationDispatcher d =
                dispatcher(
                        FAST,
                        NotifyTarget.parse("webhook=env:HOOK_URL;auth=env:HOOK_AUTH", env(gone)),
                        NotifyTarget.parse("slack=env:SLACK_URL", env(gone)));
        Alert alert = alert("gpt2-small", "STALL", "critical", Alert.OPEN, 1);

        d.submit(new PendingNotification(0, alert));
        d.submit(new PendingNotification(1, alert));

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        // idle: no retry is waiting, so none can come later
        assertThat(gone.received).hasSize(2);
        List<DeliveryResult> results = d.drainResults();
        assertThat(results).hasSize(2).noneMatch(DeliveryResult::delivered);
        assertThat(results).allMatch(r -> r.lastStatus() == 404 && r.notification().attempts == 1);
        assertThat(results)
                .extracting(DeliveryResult::reason)
                .containsExactlyInAnyOrder(
                        "HTTP 404 from webhook=" + gone.url("/…") + " (not retried)",
                        "HTTP 404 from slack=" + gone.url("/…") + " (not retried)")
                .allSatisfy(
                        reason ->
                                assertThat(reason)
                                        .contains("404", "127.0.0.1")
                                        .doesNotContain("s3cret", "services", "/hook", TOKEN));
        assertThat(d.failedCount()).isEqualTo(2);
    }

    @Test
    void shouldGiveUpOnAHangingReceiverWithoutDelayingAHealthyOne() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        Receiver hanging = receiver((self, body, headers) -> self.hangUntil(never) ? 200 : 503);
        Receiver healthy = receiver((self, body, headers) -> 200);
        DispatchSettings settings =
                FAST.withRequestTimeout(Duration.ofMillis(200)).withHorizon(Duration.ofSeconds(1));
        NotificationDispatcher d =
                dispatcher(
                        settings,
                        NotifyTarget.parse("webhook=" + hanging.url("/hook"), env(hanging)),
                        NotifyTarget.parse("webhook=" + healthy.url("/hook"), env(healthy)));
        List<Alert> alerts = openAlerts(3);

        long start = System.nanoTime();
        for (Alert a : alerts) {
            d.submit(new PendingNotification(0, a));
            d.submit(new PendingNotification(1, a));
        }

        await(
                "healthy receiver has all 3",
                Duration.ofSeconds(5),
                () -> healthy.received.size() == 3);
        long healthyMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // well before the hanging target gives up (its horizon is 1 s)
        assertThat(d.failedCount()).isZero();
        assertThat(hanging.received).isEmpty();
        assertThat(healthyMillis).isLessThan(1000);

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        List<DeliveryResult> results = d.drainResults();
        assertThat(results.stream().filter(r -> r.notification().target == 1))
                .hasSize(3)
                .allMatch(DeliveryResult::delivered);
        List<DeliveryResult> hangingResults =
                results.stream().filter(r -> r.notification().target == 0).toList();
        assertThat(hangingResults).hasSize(3).noneMatch(DeliveryResult::delivered);
        assertThat(hangingResults)
                .allSatisfy(
                        r -> {
                            assertThat(r.lastStatus()).isEqualTo(RetryPolicy.TIMED_OUT);
                            assertThat(r.notification().attempts).isGreaterThan(1);
                            assertThat(r.reason())
                                    .startsWith(
                                            "timed out after 200 ms from webhook=http://127.0.0.1:")
                                    .contains("on attempt " + r.notification().attempts)
                                    .endsWith("(retry horizon 1.0 s)");
                        });
        // every healthy delivery came before the first give-up
        long firstGiveUp =
                hangingResults.stream().mapToLong(DeliveryResult::atMillis).min().orElseThrow();
        assertThat(results.stream().filter(DeliveryResult::delivered))
                .allMatch(r -> r.atMillis() <= firstGiveUp);
    }

    @Test
    void shouldWaitAsRetryAfterSaysForTheWholeTarget() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        Receiver limited =
                receiver(
                        (self, body, headers) -> {
                            if (requests.incrementAndGet() == 1) {
                                headers.add("Retry-After", "1");
                                return 429;
                            }
                            return 200;
                        });
        // one at a time: the second alert is still queued when the first hears 429
        NotificationDispatcher d =
                dispatcher(
                        FAST.withMaxInFlightPerTarget(1),
                        NotifyTarget.parse("webhook=env:HOOK_URL", env(limited)));
        List<Alert> alerts = openAlerts(2);

        alerts.forEach(a -> d.submit(new PendingNotification(0, a)));

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(limited.received).extracting(Received::answered).containsExactly(429, 200, 200);
        long gapMillis =
                TimeUnit.NANOSECONDS.toMillis(
                        limited.received.get(1).atNanos() - limited.received.get(0).atNanos());
        // FAST's backoff alone would wait at most 50 ms
        assertThat(gapMillis).isGreaterThanOrEqualTo(950);
        assertThat(d.drainResults())
                .allMatch(DeliveryResult::delivered)
                .extracting(r -> r.notification().alert, r -> r.notification().attempts)
                .containsExactlyInAnyOrder(tuple(alerts.get(0), 2), tuple(alerts.get(1), 1));
    }

    @Test
    void shouldKeepAtMostMaxInFlightRequestsPerTarget() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Receiver slow = receiver((self, body, headers) -> self.hangUntil(release) ? 200 : 503);
        NotificationDispatcher d =
                dispatcher(
                        FAST.withMaxInFlightPerTarget(2),
                        NotifyTarget.parse("webhook=env:HOOK_URL", env(slow)));
        List<PendingNotification> submitted =
                openAlerts(6).stream().map(a -> new PendingNotification(0, a)).toList();

        submitted.forEach(d::submit);

        await("2 requests in flight", Duration.ofSeconds(5), () -> slow.concurrent.get() == 2);
        List<PendingNotification> undelivered = d.undelivered();
        assertThat(undelivered)
                .extracting(PendingNotification::key)
                .containsExactlyElementsOf(
                        submitted.stream().map(PendingNotification::key).toList());
        assertThat(undelivered)
                .filteredOn(n -> n.attempts == 1)
                .hasSize(2)
                .allMatch(n -> n.firstAttemptMillis > 0);
        assertThat(undelivered)
                .filteredOn(n -> n.attempts == 0)
                .hasSize(4)
                .allMatch(n -> n.firstAttemptMillis == 0);
        assertThat(submitted).allMatch(n -> n.attempts == 0, "the caller's objects untouched");

        release.countDown();

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(slow.received).hasSize(6).allMatch(r -> r.answered() == 200);
        assertThat(slow.maxConcurrent.get()).isEqualTo(2);
        assertThat(d.undelivered()).isEmpty();
        assertThat(d.deliveredCount()).isEqualTo(6);
    }

    @Test
    void shouldSendTheNotificationsOfOneAlertInOrderAndOtherAlertsBeside() throws Exception {
        Alert open = alert("run-a", "DIVERGENCE", "critical", Alert.OPEN, 1);
        Alert update = alert("run-a", "DIVERGENCE", "critical", Alert.UPDATE, 2);
        Alert resolved = alert("run-a", "DIVERGENCE", "critical", Alert.RESOLVED, 2);
        Alert other = alert("run-b", "STALL", "critical", Alert.OPEN, 1);
        CountDownLatch otherArrived = new CountDownLatch(1);
        AtomicInteger runAArrived = new AtomicInteger();
        AtomicInteger runAArrivedWhileOpenHeld = new AtomicInteger(-1);
        AtomicBoolean openHeldUntilOther = new AtomicBoolean();
        List<String> runAAnswered = new CopyOnWriteArrayList<>();
        Receiver hook =
                receiver(
                        (self, body, headers) -> {
                            JsonNode json = JSON.readTree(body);
                            String status = json.get("status").asText();
                            if (json.get("run_id").asText().equals("run-b")) {
                                otherArrived.countDown();
                                return 200;
                            }
                            runAArrived.incrementAndGet();
                            if (status.equals(Alert.OPEN)) {
                                // the first answer is slow, until the other alert got through
                                // beside it; the follow-ups must wait for it
                                openHeldUntilOther.set(self.hangUntil(otherArrived));
                                runAArrivedWhileOpenHeld.set(runAArrived.get());
                            }
                            runAAnswered.add(status);
                            return 200;
                        });
        NotificationDispatcher d =
                dispatcher(FAST, NotifyTarget.parse("webhook=env:HOOK_URL", env(hook)));

        for (Alert a : List.of(open, update, resolved, other)) {
            d.submit(new PendingNotification(0, a));
        }

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(openHeldUntilOther).isTrue();
        assertThat(runAArrivedWhileOpenHeld).hasValue(1);
        assertThat(runAAnswered).containsExactly(Alert.OPEN, Alert.UPDATE, Alert.RESOLVED);
        assertThat(
                        hook.received.stream()
                                .map(Received::json)
                                .filter(j -> j.get("run_id").asText().equals("run-a"))
                                .map(j -> j.get("status").asText()))
                .containsExactly(Alert.OPEN, Alert.UPDATE, Alert.RESOLVED);
        assertThat(d.deliveredCount()).isEqualTo(4);
    }

    @Test
    void shouldFoldASlackBurstIntoFewMessagesPacedByTheInterval() throws Exception {
        Receiver slack = receiver((self, body, headers) -> 200);
        Duration interval = Duration.ofMillis(300);
        NotificationDispatcher d =
                dispatcher(
                        FAST.withSlackInterval(interval),
                        NotifyTarget.parse("slack=env:X", name -> slack.url(SECRET_PATH)));
        List<Alert> burst = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String run = i % 3 == 0 ? "run-b" : "run-a";
            String kind = i % 2 == 0 ? "GRAD_EXPLOSION" : "LOSS_SPIKE";
            Alert a = alert(run, kind, i == 10 ? "critical" : "warning", Alert.OPEN, 1);
            a.alertId = Alert.idFor(run, kind, i);
            burst.add(a);
        }

        // the second half comes while the first message is out: it must wait for the next slot
        burst.subList(0, 10).forEach(a -> d.submit(new PendingNotification(0, a)));
        await("the first message", Duration.ofSeconds(5), () -> !slack.received.isEmpty());
        burst.subList(10, 20).forEach(a -> d.submit(new PendingNotification(0, a)));

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        List<Received> messages = slack.received;
        assertThat(messages).hasSizeBetween(2, 4);
        Pattern more = Pattern.compile("\\(\\+(\\d+) more alerts?\\)$");
        int alertsInMessages = 0;
        Received withCritical = null;
        for (Received m : messages) {
            String text = m.json().get("text").asText();
            Matcher matcher = more.matcher(text);
            alertsInMessages += 1 + (matcher.find() ? Integer.parseInt(matcher.group(1)) : 0);
            if (text.startsWith("[CRITICAL]")) {
                withCritical = m;
            }
        }
        assertThat(alertsInMessages).isEqualTo(20);
        // the most severe alert of its burst leads the folded message
        assertThat(withCritical).isNotNull();
        assertThat(withCritical.json().get("text").asText()).containsPattern(more);
        JsonNode blocks = withCritical.json().get("blocks");
        assertThat(blocks.get(blocks.size() - 1).get("text").get("text").asText())
                .startsWith("*+")
                .contains(" more alerts in the last ", "run-a ", "LOSS_SPIKE ");
        for (int i = 1; i < messages.size(); i++) {
            long gapMillis =
                    TimeUnit.NANOSECONDS.toMillis(
                            messages.get(i).atNanos() - messages.get(i - 1).atNanos());
            assertThat(gapMillis).isGreaterThanOrEqualTo(interval.toMillis());
        }

        List<DeliveryResult> results = d.drainResults();
        assertThat(results).hasSize(20).allMatch(DeliveryResult::delivered);
        assertThat(results.stream().map(r -> r.notification().alert.alertId).distinct())
                .hasSize(20);
        assertThat(results)
                .filteredOn(r -> r.reason().equals(NotificationDispatcher.FOLDED_REASON))
                .hasSize(20 - messages.size());
        assertThat(d.foldedCount()).isEqualTo(20 - messages.size());
        assertThat(d.deliveredCount()).isEqualTo(20);
    }

    @Test
    void shouldPrintADryRunWithoutSendingOrShowingASecret() throws Exception {
        Receiver nobody = receiver((self, body, headers) -> 200);
        Function<String, String> env = env(nobody);
        NotificationDispatcher d =
                dispatcher(
                        FAST.withDryRun(true),
                        NotifyTarget.parse("webhook=env:HOOK_URL;auth=env:HOOK_AUTH", env),
                        NotifyTarget.parse("slack=env:SLACK_URL", env),
                        NotifyTarget.parse(
                                "pagerduty=env:PD_KEY;url=" + nobody.url("/enqueue"), env));
        List<Alert> alerts =
                List.of(
                        alert("run-a", "DIVERGENCE", "critical", Alert.OPEN, 1),
                        alert("run-b", "NON_FINITE", "critical", Alert.OPEN, 1),
                        alert("run-a", "DIVERGENCE", "critical", Alert.RESOLVED, 3));

        for (int target = 0; target < 3; target++) {
            for (Alert a : alerts) {
                d.submit(new PendingNotification(target, a));
            }
        }

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(nobody.received).isEmpty();
        assertThat(d.deliveredCount()).isEqualTo(9);
        assertThat(d.drainResults()).hasSize(9).allMatch(DeliveryResult::delivered);
        String out = dryRunBytes.toString(StandardCharsets.UTF_8);
        assertThat(out.lines()).hasSize(9).allMatch(line -> line.startsWith("notify dry-run: "));
        for (String target : List.of("webhook=", "slack=", "pagerduty=")) {
            // a resolution is printed after its opening alert, as it would be sent
            assertThat(
                            out.lines()
                                    .filter(line -> line.startsWith("notify dry-run: " + target))
                                    .filter(line -> line.contains(alerts.get(0).alertId))
                                    .map(
                                            line ->
                                                    line.contains("status=open")
                                                            ? "open"
                                                            : "resolved"))
                    .as(target)
                    .containsExactly("open", "resolved");
        }
        assertThat(out)
                .contains(alerts.get(0).alertId, alerts.get(1).alertId)
                .contains("webhook=***;auth=***", "slack=***", "pagerduty=", "routing_key=***")
                .contains("Authorization=***", "\"routing_key\":\"***\"")
                .contains(" POST ", "body={")
                .doesNotContain(ROUTING_KEY, TOKEN, SECRET_PATH, "s3cret");
    }

    @Test
    void shouldGiveUpARestoredNotificationPastItsHorizonAfterOneAttempt() throws Exception {
        Receiver down = receiver((self, body, headers) -> 503);
        NotificationDispatcher d =
                dispatcher(
                        DispatchSettings.defaults()
                                .withDelays(Duration.ofMillis(50), Duration.ofMillis(50)),
                        NotifyTarget.parse("webhook=env:HOOK_URL", env(down)));
        PendingNotification restored = new PendingNotification(0, openAlerts(1).get(0));
        restored.attempts = 3;
        restored.firstAttemptMillis = System.currentTimeMillis() - Duration.ofHours(1).toMillis();

        d.submit(restored);

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(down.received).hasSize(1);
        DeliveryResult result = d.drainResults().get(0);
        assertThat(result.delivered()).isFalse();
        assertThat(result.lastStatus()).isEqualTo(503);
        assertThat(result.notification().attempts).isEqualTo(4);
        assertThat(result.notification().firstAttemptMillis).isEqualTo(restored.firstAttemptMillis);
        assertThat(result.reason())
                .startsWith("HTTP 503 from webhook=http://127.0.0.1:")
                .contains("on attempt 4, 3600 s after the first")
                .endsWith("(retry horizon 600 s)");
    }

    @Test
    void shouldGiveUpAnAlertItsFormatCannotTakeWithoutSendingIt() throws Exception {
        Receiver pagerDuty = receiver((self, body, headers) -> 202);
        NotificationDispatcher d =
                dispatcher(
                        FAST,
                        NotifyTarget.parse(
                                "pagerduty=env:PD_KEY;url=" + pagerDuty.url("/enqueue"),
                                env(pagerDuty)));
        Alert noId = alert("run-a", "DIVERGENCE", "critical", Alert.OPEN, 1);
        // no dedup key can be made
        noId.alertId = null;
        noId.incidentId = null;
        Alert fine = alert("run-b", "DIVERGENCE", "critical", Alert.OPEN, 1);

        d.submit(new PendingNotification(0, noId));
        d.submit(new PendingNotification(0, fine));

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(pagerDuty.received).hasSize(1);
        assertThat(pagerDuty.received.get(0).json().get("dedup_key").asText())
                .isEqualTo(fine.alertId);
        assertThat(d.drainResults())
                .extracting(DeliveryResult::delivered, DeliveryResult::reason)
                .containsExactlyInAnyOrder(
                        tuple(
                                false,
                                "could not build the request (NullPointerException) for pagerduty="
                                        + pagerDuty.url("/…")
                                        + " (not retried)"),
                        tuple(true, "HTTP 202 on attempt 1"));
    }

    @Test
    void shouldGiveUpTheNewestWhenATargetQueueIsFull() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Receiver slow = receiver((self, body, headers) -> self.hangUntil(release) ? 200 : 503);
        NotificationDispatcher d =
                dispatcher(
                        FAST.withMaxInFlightPerTarget(1).withMaxQueuedPerTarget(2),
                        NotifyTarget.parse("webhook=env:HOOK_URL", env(slow)));
        List<Alert> alerts = openAlerts(3);

        alerts.forEach(a -> d.submit(new PendingNotification(0, a)));

        await("the queue-full result", Duration.ofSeconds(5), () -> d.failedCount() == 1);
        DeliveryResult full = d.drainResults().get(0);
        assertThat(full.delivered()).isFalse();
        assertThat(full.notification().alert).isSameAs(alerts.get(2));
        assertThat(full.reason())
                .isEqualTo("queue full: 2 notifications waiting for webhook=" + slow.url("/…"));
        assertThat(d.undelivered()).hasSize(2);

        release.countDown();

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(slow.received).hasSize(2);
        assertThat(d.deliveredCount()).isEqualTo(2);
    }

    @Test
    void shouldNotQueueANotificationTwice() throws Exception {
        Receiver hook = receiver((self, body, headers) -> 200);
        NotificationDispatcher d =
                dispatcher(FAST, NotifyTarget.parse("webhook=env:HOOK_URL", env(hook)));
        Alert alert = openAlerts(1).get(0);

        d.submit(new PendingNotification(0, alert));
        d.submit(new PendingNotification(0, alert));

        assertThat(d.awaitIdle(IDLE_WITHIN)).isTrue();
        assertThat(hook.received).hasSize(1);
        assertThat(d.drainResults()).hasSize(1);
    }

    @Test
    void shouldKeepWhatIsUndeliveredWhenClosed() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        Receiver hanging = receiver((self, body, headers) -> self.hangUntil(never) ? 200 : 503);
        NotificationDispatcher d =
                dispatcher(
                        FAST.withMaxInFlightPerTarget(1),
                        NotifyTarget.parse("webhook=env:HOOK_URL", env(hanging)));
        List<Alert> alerts = openAlerts(2);
        alerts.forEach(a -> d.submit(new PendingNotification(0, a)));
        await("one request in flight", Duration.ofSeconds(5), () -> hanging.concurrent.get() == 1);

        d.close();

        assertThat(d.undelivered())
                .extracting(n -> n.alert, n -> n.attempts)
                .containsExactly(tuple(alerts.get(0), 1), tuple(alerts.get(1), 0));
        assertThat(d.awaitIdle(Duration.ofMillis(10))).isFalse();
        assertThat(d.drainResults()).isEmpty();
    }
}

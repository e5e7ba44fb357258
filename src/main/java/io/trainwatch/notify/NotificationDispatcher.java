package io.trainwatch.notify;

import io.trainwatch.detect.Severity;
import io.trainwatch.event.Alert;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Delivers notifications to their targets over HTTP, asynchronously: {@link #submit} queues and
 * returns at once; one daemon thread (the dispatcher's thread) starts requests, handles their
 * outcomes and schedules retries, and the JDK {@link HttpClient} waits for the answers, so a slow
 * or hanging receiver delays nobody but itself.
 *
 * <ul>
 *   <li><b>Formats</b>: webhook {@link WebhookRequest}, slack {@link SlackMessage}, pagerduty
 *       {@link PagerDutyEvent}.
 *   <li><b>Bounded</b>: at most {@link DispatchSettings#maxInFlightPerTarget()} requests in flight
 *       per target, the rest queued; a target's queue holds at most {@link
 *       DispatchSettings#maxQueuedPerTarget()} notifications, and one more is given up with a
 *       "queue full" result.
 *   <li><b>Retries</b>: timeouts, connection failures, 5xx and 429 are retried as {@link
 *       RetryPolicy} says (backoff with jitter, Retry-After, up to the horizon counted from the
 *       first attempt, which a restored notification carries); other statuses are given up at once.
 *       A 429 holds back the whole target for its delay.
 *   <li><b>Order per alert</b>: a notification waits while an earlier one of the same alert to the
 *       same target is undelivered, so PagerDuty never sees a resolve before its trigger and Slack
 *       follow-ups come after the opening message; different alerts go in parallel.
 *   <li><b>Slack pace</b>: one message at a time, the next one {@link
 *       DispatchSettings#slackInterval()} after both the start and the answer of the last ({@code
 *       maxInFlightPerTarget} does not apply); when several are waiting at a slot they go as one
 *       {@link SlackMessage#folded} message, the most severe one plus a summary of the others,
 *       which are delivered with reason {@value #FOLDED_REASON}.
 *   <li><b>Dry run</b>: nothing is sent; each notification is printed as one line, secrets masked,
 *       and counted as delivered.
 *   <li>A notification whose {@link PendingNotification#key()} is already undelivered is not queued
 *       twice (a restore may offer it again).
 * </ul>
 *
 * <p>Every outcome becomes a {@link DeliveryResult}, collected for {@link #drainResults()} and
 * passed to {@code onResult}. Neither a result's reason nor a log line holds a secret: targets are
 * named by type, scheme and host only, failures by exception class, never by message.
 */
public final class NotificationDispatcher implements AutoCloseable {
    static final String FOLDED_REASON = "folded into a summary";

    private static final Logger LOG = LoggerFactory.getLogger(NotificationDispatcher.class);
    private static final String MASK = "***";
    private static final String DRY_RUN_PREFIX = "notify dry-run: ";

    private static final int TOO_MANY_REQUESTS = 429;

    /** A request that could not even be built: nothing to retry. */
    private static final int NOT_SENT = -1;

    private final List<NotifyTarget> targets;
    private final String grafanaUrl;
    private final DispatchSettings settings;
    private final Clock clock;
    private final PrintStream dryRunOut;
    private final Consumer<DeliveryResult> onResult;
    private final RetryPolicy retryPolicy;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final List<Lane> lanes = new ArrayList<>();
    private final ConcurrentLinkedQueue<DeliveryResult> results = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean pumpScheduled = new AtomicBoolean();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong folded = new AtomicLong();

    /** Guards the lanes and the fields below; held briefly, never across I/O. */
    private final Object lock = new Object();

    private long nextSeq;
    private int undelivered;
    private int callbacksOwed;
    private boolean closed;

    /**
     * @param targets the targets, indexed by {@link PendingNotification#target}
     * @param grafanaUrl the {@code --grafana-url} for Slack's dashboard link; may be null
     * @param clock the wall clock of first attempts, the retry horizon and results
     * @param dryRunOut where {@code --dry-run} prints what would be sent (never a secret)
     * @param onResult called on the dispatcher's thread right after each outcome; may be null
     */
    public NotificationDispatcher(
            List<NotifyTarget> targets,
            String grafanaUrl,
            DispatchSettings settings,
            Clock clock,
            PrintStream dryRunOut,
            Consumer<DeliveryResult> onResult) {
        this.targets = List.copyOf(targets);
        this.grafanaUrl = grafanaUrl;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (settings.dryRun()) {
            Objects.requireNonNull(dryRunOut, "dryRunOut (settings.dryRun is set)");
        }
        this.dryRunOut = dryRunOut;
        this.onResult = onResult;
        this.retryPolicy =
                new RetryPolicy(
                        settings.baseDelay(),
                        settings.maxDelay(),
                        settings.horizon(),
                        new Random(),
                        clock);
        for (int i = 0; i < this.targets.size(); i++) {
            lanes.add(new Lane(this.targets.get(i)));
        }
        this.http =
                settings.dryRun()
                        ? null
                        : HttpClient.newBuilder()
                                .version(HttpClient.Version.HTTP_1_1)
                                .connectTimeout(settings.requestTimeout())
                                .followRedirects(HttpClient.Redirect.NEVER)
                                .build();
        this.scheduler =
                Executors.newSingleThreadScheduledExecutor(
                        task -> {
                            Thread t = new Thread(task, "trainwatch-notify");
                            t.setDaemon(true);
                            return t;
                        });
    }

    /**
     * Queues one notification; it may carry {@code attempts} and {@code firstAttemptMillis} from a
     * restored checkpoint (the horizon counts from that first attempt). Keeps a copy. Thread-safe;
     * never blocks the caller.
     */
    public void submit(PendingNotification notification) {
        Objects.requireNonNull(notification, "notification");
        if (notification.alert == null) {
            throw new IllegalArgumentException("notification alert: null");
        }
        if (notification.target < 0 || notification.target >= lanes.size()) {
            throw new IllegalArgumentException(
                    "notification target: "
                            + notification.target
                            + " is not an index of the "
                            + lanes.size()
                            + " targets");
        }
        String key = notification.key();
        DeliveryResult rejected = null;
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("notification dispatcher: closed");
            }
            Lane lane = lanes.get(notification.target);
            if (lane.byKey.containsKey(key)) {
                return;
            }
            if (lane.byKey.size() >= settings.maxQueuedPerTarget()) {
                rejected =
                        new DeliveryResult(
                                notification.copy(),
                                false,
                                RetryPolicy.TIMED_OUT,
                                "queue full: "
                                        + lane.byKey.size()
                                        + " notifications waiting for "
                                        + lane.label,
                                clock.millis());
                failed.incrementAndGet();
                results.add(rejected);
                callbacksOwed++;
            } else {
                lane.add(new Entry(nextSeq++, notification.copy(), key, System.nanoTime()));
                undelivered++;
            }
        }
        if (rejected != null) {
            List<DeliveryResult> one = List.of(rejected);
            execute(() -> callBack(one));
        } else {
            schedulePump();
        }
    }

    /**
     * Copies of every notification not yet delivered nor given up (queued, waiting for a retry, in
     * flight), oldest first, with the attempts made so far: what a checkpoint keeps.
     */
    public List<PendingNotification> undelivered() {
        List<Entry> entries = new ArrayList<>();
        synchronized (lock) {
            for (Lane lane : lanes) {
                entries.addAll(lane.byKey.values());
            }
            entries.sort(Comparator.comparingLong(e -> e.seq));
            List<PendingNotification> copies = new ArrayList<>(entries.size());
            for (Entry e : entries) {
                copies.add(e.notification.copy());
            }
            return copies;
        }
    }

    /** Outcomes since the last call, oldest first. Thread-safe. */
    public List<DeliveryResult> drainResults() {
        List<DeliveryResult> drained = new ArrayList<>();
        for (DeliveryResult r = results.poll(); r != null; r = results.poll()) {
            drained.add(r);
        }
        return drained;
    }

    /**
     * Waits until nothing is undelivered (and {@code onResult} has seen every outcome) or {@code
     * max} passes; true when idle.
     */
    public boolean awaitIdle(Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        synchronized (lock) {
            while (undelivered > 0 || callbacksOwed > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
            return true;
        }
    }

    /** Notifications delivered, those folded into a Slack summary and dry-run ones included. */
    public long deliveredCount() {
        return delivered.get();
    }

    /** Notifications given up. */
    public long failedCount() {
        return failed.get();
    }

    /**
     * Delivered notifications that went inside a Slack summary rather than as their own message.
     */
    public long foldedCount() {
        return folded.get();
    }

    /**
     * Stops the dispatcher's thread; what is undelivered stays undelivered (the checkpoint has it),
     * and answers still arriving are ignored.
     */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        // Java 17's HttpClient cannot be closed: its daemon threads end once it is unreachable
        scheduler.shutdownNow();
    }

    // ---- on the dispatcher's thread ----

    private void schedulePump() {
        if (pumpScheduled.compareAndSet(false, true)) {
            execute(this::pump);
        }
    }

    /** Starts what the lanes allow now. */
    private void pump() {
        pumpScheduled.set(false);
        List<Send> sends = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            long nowNanos = System.nanoTime();
            for (Lane lane : lanes) {
                lane.takeSendable(nowNanos, sends);
            }
        }
        for (Send send : sends) {
            start(send);
        }
    }

    private void start(Send send) {
        Notification notification;
        try {
            notification = format(send);
        } catch (RuntimeException e) {
            // an alert a format cannot take (a field missing): retrying would not help
            onOutcome(send, NOT_SENT, null, "could not build the request (" + className(e) + ")");
            return;
        }
        if (settings.dryRun()) {
            dryRunOut.println(
                    dryRunLine(send.lane.target, send.primary().notification.alert, notification));
            onDryRun(send);
            return;
        }
        HttpRequest request;
        try {
            HttpRequest.Builder builder =
                    HttpRequest.newBuilder(URI.create(notification.url()))
                            .timeout(settings.requestTimeout())
                            .POST(
                                    HttpRequest.BodyPublishers.ofString(
                                            notification.body(), StandardCharsets.UTF_8));
            notification.headers().forEach(builder::header);
            request = builder.build();
        } catch (RuntimeException e) {
            // the message may quote the URL or a header value: name the class only
            onOutcome(send, NOT_SENT, null, "could not build the request (" + className(e) + ")");
            return;
        }
        try {
            http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                    .whenComplete(answerTo(send));
        } catch (RuntimeException e) {
            onOutcome(send, NOT_SENT, null, "could not send the request (" + className(e) + ")");
        }
    }

    /** Hands an answer, or its absence, to the dispatcher's thread. */
    private BiConsumer<HttpResponse<Void>, Throwable> answerTo(Send send) {
        return (response, error) -> {
            if (error == null) {
                int status = response.statusCode();
                String retryAfter = response.headers().firstValue("Retry-After").orElse(null);
                execute(() -> onOutcome(send, status, retryAfter, null));
            } else {
                String failure = failure(error);
                execute(() -> onOutcome(send, RetryPolicy.TIMED_OUT, null, failure));
            }
        };
    }

    private Notification format(Send send) {
        NotifyTarget target = send.lane.target;
        Alert alert = send.primary().notification.alert;
        return switch (target.type()) {
            case WEBHOOK -> WebhookRequest.of(target, alert);
            case PAGERDUTY -> PagerDutyEvent.of(target, alert);
            case SLACK -> {
                if (send.entries.size() == 1) {
                    yield SlackMessage.of(target, alert, grafanaUrl);
                }
                List<Alert> others = new ArrayList<>();
                long oldestNanos = Long.MAX_VALUE;
                for (Entry e : send.entries) {
                    oldestNanos = Math.min(oldestNanos, e.queuedNanos);
                    if (e != send.primary()) {
                        others.add(e.notification.alert);
                    }
                }
                Duration window = Duration.ofNanos(System.nanoTime() - oldestNanos);
                yield SlackMessage.folded(target, alert, others, window, grafanaUrl);
            }
        };
    }

    private void onDryRun(Send send) {
        List<DeliveryResult> done = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            send.lane.inFlight--;
            long nowMillis = clock.millis();
            for (Entry e : send.entries) {
                finish(
                        send.lane,
                        e,
                        true,
                        RetryPolicy.TIMED_OUT,
                        "dry run: printed, not sent",
                        nowMillis,
                        done);
            }
        }
        callBack(done);
        // the next notification of the same alert may go now
        schedulePump();
    }

    /**
     * The answer to one request: delivered, retried, or given up, for each notification it carried.
     *
     * @param failure what went wrong when there is no HTTP status, else null
     */
    private void onOutcome(Send send, int status, String retryAfter, String failure) {
        List<DeliveryResult> done = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            Lane lane = send.lane;
            lane.inFlight--;
            long nowNanos = System.nanoTime();
            if (lane.paced) {
                // counted from the answer too, so that even a slow first request cannot bring two
                // messages closer than the interval at Slack's end
                lane.notBefore(nowNanos + settings.slackInterval().toNanos());
            }
            long nowMillis = clock.millis();
            boolean ok = status >= 200 && status <= 299;
            for (Entry e : send.entries) {
                PendingNotification n = e.notification;
                if (ok) {
                    boolean inSummary = e != send.primary();
                    if (inSummary) {
                        folded.incrementAndGet();
                    }
                    String reason =
                            inSummary
                                    ? FOLDED_REASON
                                    : "HTTP " + status + " on attempt " + n.attempts;
                    finish(lane, e, true, status, reason, nowMillis, done);
                    continue;
                }
                String what = failure != null ? failure : "HTTP " + status;
                if (!RetryPolicy.retryable(status)) {
                    String reason =
                            status == NOT_SENT
                                    ? what + " for " + lane.label + " (not retried)"
                                    : what + " from " + lane.label + " (not retried)";
                    finish(lane, e, false, Math.max(status, 0), reason, nowMillis, done);
                    continue;
                }
                Duration elapsed = Duration.ofMillis(Math.max(0, nowMillis - n.firstAttemptMillis));
                Optional<Duration> delay =
                        retryPolicy.nextDelay(n.attempts, status, retryAfter, elapsed);
                if (delay.isEmpty()) {
                    String reason =
                            what
                                    + " from "
                                    + lane.label
                                    + " on attempt "
                                    + n.attempts
                                    + ", "
                                    + seconds(elapsed)
                                    + " after the first (retry horizon "
                                    + seconds(settings.horizon())
                                    + ")";
                    finish(lane, e, false, status, reason, nowMillis, done);
                    continue;
                }
                e.state = State.WAITING;
                if (status == TOO_MANY_REQUESTS && e == send.primary()) {
                    // the receiver asks this sender to slow down, not just this notification
                    lane.notBefore(nowNanos + delay.get().toNanos());
                }
                schedule(() -> retryDue(lane, e), delay.get());
            }
        }
        callBack(done);
        // a task of its own: called from start(), a direct pump could recurse without end
        schedulePump();
    }

    private void retryDue(Lane lane, Entry e) {
        synchronized (lock) {
            if (closed || e.state != State.WAITING) {
                return;
            }
            e.state = State.QUEUED;
            lane.queueIfHead(e, true);
        }
        pump();
    }

    /** Removes a settled notification and records its result; under the lock. */
    private void finish(
            Lane lane,
            Entry e,
            boolean wasDelivered,
            int status,
            String reason,
            long nowMillis,
            List<DeliveryResult> done) {
        lane.remove(e);
        undelivered--;
        (wasDelivered ? delivered : failed).incrementAndGet();
        if (!wasDelivered) {
            LOG.warn(
                    "notify: gave up the {} notification of alert {}: {}",
                    e.notification.alert.status,
                    e.notification.alert.alertId,
                    reason);
        }
        DeliveryResult result =
                new DeliveryResult(e.notification.copy(), wasDelivered, status, reason, nowMillis);
        // queued with the count's drop, under the lock: awaitIdle's caller finds it in drainResults
        results.add(result);
        done.add(result);
        callbacksOwed++;
    }

    private void callBack(List<DeliveryResult> done) {
        if (done.isEmpty()) {
            return;
        }
        try {
            if (onResult != null) {
                for (DeliveryResult r : done) {
                    try {
                        onResult.accept(r);
                    } catch (RuntimeException e) {
                        LOG.warn("notify: the result callback failed", e);
                    }
                }
            }
        } finally {
            synchronized (lock) {
                callbacksOwed -= done.size();
                lock.notifyAll();
            }
        }
    }

    private void execute(Runnable task) {
        try {
            scheduler.execute(guarded(task));
        } catch (RejectedExecutionException closedAlready) {
            // after close: what is undelivered stays so
        }
    }

    private void schedule(Runnable task, Duration delay) {
        try {
            scheduler.schedule(guarded(task), delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closedAlready) {
            // after close: what is undelivered stays so
        }
    }

    /** A scheduled task that throws is dropped silently by the executor: log it at least. */
    private static Runnable guarded(Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.error("notify: dispatcher task failed", e);
            }
        };
    }

    /** "timed out after 10 s" or "connection failed (ConnectException)": never the message. */
    private String failure(Throwable error) {
        Throwable cause = error;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof HttpTimeoutException) {
            return "timed out after " + millisOrSeconds(settings.requestTimeout());
        }
        return "connection failed (" + className(cause) + ")";
    }

    /**
     * "notify dry-run: slack=***;min_severity=warning POST alert=run/KIND/12 status=open
     * headers={...} body={...}": the Authorization value, the routing key and a Slack URL replaced
     * by ***.
     */
    private static String dryRunLine(NotifyTarget target, Alert alert, Notification notification) {
        Map<String, String> headers = new TreeMap<>(notification.headers());
        headers.computeIfPresent(WebhookRequest.AUTHORIZATION, (name, value) -> MASK);
        String line =
                DRY_RUN_PREFIX
                        + target
                        + " POST alert="
                        + alert.alertId
                        + " status="
                        + alert.status
                        + " headers="
                        + headers
                        + " body="
                        + notification.body();
        // wherever else a secret could show (the routing key is in PagerDuty's body)
        for (String secret :
                new String[] {
                    target.routingKey(),
                    target.authorization(),
                    target.type() == NotifyTarget.Type.SLACK ? target.url() : null
                }) {
            if (secret != null && !secret.isEmpty()) {
                line = line.replace(secret, MASK);
            }
        }
        return line;
    }

    /** "webhook=https://host:8080/…": type, scheme and host; the path may hold a token. */
    static String label(NotifyTarget target) {
        URI uri = URI.create(target.url());
        return target.type().name().toLowerCase(Locale.ROOT)
                + "="
                + uri.getScheme()
                + "://"
                + uri.getHost()
                + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + "/…";
    }

    /** "0.4 s" under ten seconds, "61 s" above. */
    static String seconds(Duration d) {
        long millis = d.toMillis();
        return millis < 10_000
                ? String.format(Locale.ROOT, "%.1f s", millis / 1000.0)
                : (millis / 1000) + " s";
    }

    private static String millisOrSeconds(Duration d) {
        return d.toMillis() < 1000 ? d.toMillis() + " ms" : seconds(d);
    }

    private static String className(Throwable t) {
        return t.getClass().getSimpleName();
    }

    private static int rank(Alert alert) {
        for (Severity s : Severity.values()) {
            if (s.wire().equals(alert.severity)) {
                // Severity is declared most severe first
                return Severity.values().length - s.ordinal();
            }
        }
        return 0;
    }

    // ---- state ----

    private enum State {
        /** Waiting to be sent: for a slot, or for an earlier notification of its alert. */
        QUEUED,
        IN_FLIGHT,
        /** Waiting for its retry delay to pass. */
        WAITING
    }

    /** One undelivered notification: the dispatcher's own copy, changed under the lock only. */
    private static final class Entry {
        final long seq;
        final PendingNotification notification;
        final String key;
        final long queuedNanos;
        State state = State.QUEUED;

        Entry(long seq, PendingNotification notification, String key, long queuedNanos) {
            this.seq = seq;
            this.notification = notification;
            this.key = key;
            this.queuedNanos = queuedNanos;
        }
    }

    /** One request: a notification, or for Slack a folded burst with the most severe first. */
    private record Send(Lane lane, List<Entry> entries) {
        Entry primary() {
            return entries.get(0);
        }
    }

    /** A target's notifications; all fields under the dispatcher's lock. */
    private final class Lane {
        final NotifyTarget target;
        final String label;

        /** Slack: one request at a time, one per slack interval, bursts folded. */
        final boolean paced;

        /** Every undelivered notification of this target, in submission order. */
        final LinkedHashMap<String, Entry> byKey = new LinkedHashMap<>();

        /** Per alert id, its undelivered notifications in submission order: only the head goes. */
        final Map<String, ArrayDeque<Entry>> chains = new HashMap<>();

        /** Heads of chains that are QUEUED: what may be sent next. */
        final ArrayDeque<Entry> ready = new ArrayDeque<>();

        int inFlight;

        /** No request starts before this (Slack's pace, a 429's delay); System.nanoTime. */
        long nextSlotNanos = System.nanoTime();

        boolean slotTimerSet;

        Lane(NotifyTarget target) {
            this.target = target;
            this.label = label(target);
            this.paced = target.type() == NotifyTarget.Type.SLACK && !settings.dryRun();
        }

        void add(Entry e) {
            byKey.put(e.key, e);
            chains.computeIfAbsent(
                            String.valueOf(e.notification.alert.alertId), id -> new ArrayDeque<>())
                    .addLast(e);
            queueIfHead(e, false);
        }

        void queueIfHead(Entry e, boolean first) {
            ArrayDeque<Entry> chain = chains.get(String.valueOf(e.notification.alert.alertId));
            if (e.state == State.QUEUED && chain != null && chain.peekFirst() == e) {
                // a retry or an unblocked follow-up is older than what waits: it goes first
                if (first) {
                    ready.addFirst(e);
                } else {
                    ready.addLast(e);
                }
            }
        }

        void remove(Entry e) {
            // only what was in flight settles, and that is not in ready
            byKey.remove(e.key);
            String alertId = String.valueOf(e.notification.alert.alertId);
            ArrayDeque<Entry> chain = chains.get(alertId);
            boolean wasHead = chain.peekFirst() == e;
            chain.remove(e);
            if (chain.isEmpty()) {
                chains.remove(alertId);
            } else if (wasHead) {
                queueIfHead(chain.peekFirst(), true);
            }
        }

        /** Marks what may start now as in flight and adds its requests to {@code sends}. */
        void takeSendable(long nowNanos, List<Send> sends) {
            if (ready.isEmpty()) {
                return;
            }
            // nanoTime values compare by their difference: they may wrap
            if (nowNanos - nextSlotNanos < 0) {
                armSlotTimer(nextSlotNanos - nowNanos);
                return;
            }
            if (paced) {
                if (inFlight > 0) {
                    return;
                }
                List<Entry> burst = takeBurst();
                for (Entry e : burst) {
                    startAttempt(e);
                }
                inFlight = 1;
                notBefore(nowNanos + settings.slackInterval().toNanos());
                sends.add(new Send(this, burst));
                return;
            }
            // a dry run sends nothing: no reason to hold anything back
            int limit = settings.dryRun() ? Integer.MAX_VALUE : settings.maxInFlightPerTarget();
            while (inFlight < limit && !ready.isEmpty()) {
                Entry e = ready.pollFirst();
                startAttempt(e);
                inFlight++;
                sends.add(new Send(this, List.of(e)));
            }
        }

        /**
         * Every chain whose head is ready, each up to its first notification not QUEUED (one
         * waiting for a retry keeps its follow-ups back); most severe first, then oldest.
         */
        private List<Entry> takeBurst() {
            List<Entry> burst = new ArrayList<>();
            for (Entry head : ready) {
                for (Entry e : chains.get(String.valueOf(head.notification.alert.alertId))) {
                    if (e.state != State.QUEUED) {
                        break;
                    }
                    burst.add(e);
                }
            }
            ready.clear();
            burst.sort(
                    Comparator.comparingInt((Entry e) -> -rank(e.notification.alert))
                            .thenComparingLong(e -> e.seq));
            return burst;
        }

        void notBefore(long nanos) {
            if (nanos - nextSlotNanos > 0) {
                nextSlotNanos = nanos;
            }
        }

        private void startAttempt(Entry e) {
            e.state = State.IN_FLIGHT;
            PendingNotification n = e.notification;
            n.attempts++;
            if (n.firstAttemptMillis == 0) {
                n.firstAttemptMillis = clock.millis();
            }
        }

        private void armSlotTimer(long delayNanos) {
            if (slotTimerSet) {
                return;
            }
            slotTimerSet = true;
            schedule(
                    () -> {
                        synchronized (lock) {
                            slotTimerSet = false;
                        }
                        pump();
                    },
                    Duration.ofNanos(delayNanos));
        }
    }
}

package io.trainwatch.job;

import io.trainwatch.event.Alert;
import io.trainwatch.event.FailedNotification;
import io.trainwatch.event.JsonWriter;
import io.trainwatch.notify.DeliveryResult;
import io.trainwatch.notify.NotificationDispatcher;
import io.trainwatch.notify.NotifyTarget;
import io.trainwatch.notify.PendingNotification;
import io.trainwatch.notify.WebhookRequest;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Sends alerts to people: the Flink side of {@link NotificationDispatcher}, which formats, sends,
 * retries and rate-limits on its own threads, so that a slow receiver never holds up this operator
 * (and through it the alerts topic).
 *
 * <p>With {@code afterCommit} (the live job) an alert is sent once the checkpoint that commits it
 * to the alerts topic completes: a person is never told of an alert that a failure then rolls back,
 * and one that the restored job raises again was never sent. What is owed (waiting for its commit,
 * queued, retrying) is this operator's checkpointed state; what was delivered after the last
 * checkpoint is read back from the {@link SentNotificationLog} on restore, so a kill-and-restore
 * sends nothing twice. Without it alerts are sent as they come: in replay (no checkpoints), where
 * the operator waits for the last deliveries when the input ends, and in the live job with
 * at-least-once delivery, where the alerts are on their topic as soon as they are raised. There a
 * restored job raises again the alerts after its checkpoint; those the sent log shows delivered
 * since that checkpoint are not sent again.
 *
 * <p>Notifications given up (refused, or still failing past the retry horizon) come out as {@link
 * FailedNotification}s: the notification output's dead letters.
 */
public final class DeliverNotificationsOperator extends AbstractStreamOperator<FailedNotification>
        implements OneInputStreamOperator<Alert, FailedNotification> {
    public static final String QUEUED = "notifications-queued";
    public static final String DELIVERED = "notifications-delivered";
    public static final String FAILED = "notifications-failed";
    public static final String FOLDED = "notifications-folded";

    /** Owed after a restore but shown delivered by the sent log: not sent again. */
    public static final String SKIPPED_AS_SENT = "notifications-skipped-as-sent";

    /** How often outcomes are collected from the dispatcher (failures emitted, counts updated). */
    static final long POLL_MILLIS = 50;

    /** The sent log is read from this long before the checkpoint: clocks of hosts differ. */
    static final Duration SENT_LOG_CLOCK_SKEW = Duration.ofMinutes(2);

    static final Duration SENT_LOG_READ_TIMEOUT = Duration.ofSeconds(30);

    /** How long a closing operator waits for answers to the requests in flight. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(2);

    private final NotifyConfig config;
    private final SentNotificationLog.Location sentLogLocation;
    private final boolean afterCommit;

    private transient ListState<NotificationState> state;

    /**
     * Sent as they come: the wall-clock millis of the snapshot, from which a restore reads the sent
     * log even when nothing was owed.
     */
    private transient ListState<Long> snapshotMillis;

    private transient List<NotificationState> restored;
    private transient long restoredSnapshotMillis;

    /**
     * Sent as they come, after a restore: what the sent log shows delivered since the checkpoint,
     * by {@link SentNotificationLog#key}. The restored job raises those alerts again; each key is
     * dropped when its alert comes back.
     */
    private transient Set<String> sentBeforeRestore;

    private transient List<PendingNotification> sinceLastSnapshot;
    private transient TreeMap<Long, List<PendingNotification>> awaitingCommit;
    private transient NotificationDispatcher dispatcher;
    private transient SentNotificationLog sentLog;
    private transient List<String> fingerprints;
    private transient Count queued;
    private transient Count delivered;
    private transient Count failed;
    private transient Count folded;
    private transient Count skippedAsSent;

    /**
     * @param sentLogLocation the sent log; null without Kafka (replay), where nothing is restored
     * @param afterCommit send once the alert's checkpoint completes, not as it comes
     */
    public DeliverNotificationsOperator(
            NotifyConfig config,
            SentNotificationLog.Location sentLogLocation,
            boolean afterCommit) {
        this.config = config;
        this.sentLogLocation = sentLogLocation;
        this.afterCommit = afterCommit;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        TrainwatchTypes.register(); // the owed alerts' evidence has its own serializer
        state =
                context.getOperatorStateStore()
                        .getListState(
                                new ListStateDescriptor<>(
                                        "notifications-owed", NotificationState.class));
        snapshotMillis =
                context.getOperatorStateStore()
                        .getListState(new ListStateDescriptor<>("snapshot-millis", Long.class));
        restored = new ArrayList<>();
        restoredSnapshotMillis = Long.MAX_VALUE;
        if (context.isRestored()) {
            state.get().forEach(restored::add);
            for (Long t : snapshotMillis.get()) {
                restoredSnapshotMillis = Math.min(restoredSnapshotMillis, t);
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        queued = new Count(QUEUED);
        delivered = new Count(DELIVERED);
        failed = new Count(FAILED);
        folded = new Count(FOLDED);
        skippedAsSent = new Count(SKIPPED_AS_SENT);
        sinceLastSnapshot = new ArrayList<>();
        awaitingCommit = new TreeMap<>();
        sentBeforeRestore = new HashSet<>();
        fingerprints = config.targets().stream().map(NotifyTarget::fingerprint).toList();
        sentLog = sentLogLocation == null ? null : SentNotificationLog.open(sentLogLocation);
        dispatcher =
                new NotificationDispatcher(
                        config.targets(),
                        config.grafanaUrl(),
                        config.settings(),
                        Clock.systemUTC(),
                        System.out,
                        this::recordDelivery);
        resubmitRestored();
        schedulePoll();
    }

    @Override
    public void processElement(StreamRecord<Alert> element) {
        Alert alert = element.getValue();
        List<NotifyTarget> targets = config.targets();
        for (int i = 0; i < targets.size(); i++) {
            if (!targets.get(i).accepts(alert)) {
                continue;
            }
            if (!sentBeforeRestore.isEmpty()
                    && sentBeforeRestore.remove(
                            SentNotificationLog.key(fingerprints.get(i), alert))) {
                skippedAsSent.add(1); // raised again after a restore, and delivered before it
                continue;
            }
            PendingNotification n = new PendingNotification(i, alert);
            queued.add(1);
            if (afterCommit) {
                sinceLastSnapshot.add(n);
            } else {
                dispatcher.submit(n);
            }
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // the alerts seen so far are in this checkpoint's transaction: they are sent once it
        // commits
        if (!sinceLastSnapshot.isEmpty()) {
            awaitingCommit.put(context.getCheckpointId(), sinceLastSnapshot);
            sinceLastSnapshot = new ArrayList<>();
        }
        long now = System.currentTimeMillis();
        List<NotificationState> owed = new ArrayList<>();
        awaitingCommit.forEach(
                (checkpoint, list) ->
                        list.forEach(
                                n ->
                                        owed.add(
                                                new NotificationState(
                                                        checkpoint,
                                                        now,
                                                        fingerprints.get(n.target),
                                                        n))));
        for (PendingNotification n : dispatcher.undelivered()) {
            owed.add(
                    new NotificationState(
                            NotificationState.COMMITTED, now, fingerprints.get(n.target), n));
        }
        state.update(owed);
        if (!afterCommit) {
            snapshotMillis.update(List.of(now));
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        Iterator<Map.Entry<Long, List<PendingNotification>>> it =
                awaitingCommit.headMap(checkpointId, true).entrySet().iterator();
        while (it.hasNext()) {
            it.next().getValue().forEach(dispatcher::submit);
            it.remove();
        }
    }

    @Override
    public void finish() throws Exception {
        // the input ended (a replay, or a live run with --stop-at-end): the alerts still waiting
        // for a commit are sent now, ahead of the final checkpoint, so that what fails can still
        // come out as a record in that checkpoint's transaction. Should the final checkpoint
        // fail, the restarted job raises those alerts again and they go out a second time, with
        // the same idempotency keys.
        awaitingCommit.values().forEach(list -> list.forEach(dispatcher::submit));
        awaitingCommit.clear();
        sinceLastSnapshot.forEach(dispatcher::submit);
        sinceLastSnapshot.clear();
        awaitDeliveries();
        collectOutcomes();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (dispatcher != null) {
                // a cancel or a failure: requests already on the wire get a moment to be answered
                // and recorded in the sent log, so that the restored job does not send them again
                boolean interrupted = Thread.interrupted();
                try {
                    dispatcher.awaitIdle(CLOSE_GRACE);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                dispatcher.close();
                if (sentLog != null) {
                    sentLog.close();
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        } finally {
            super.close();
        }
    }

    private void awaitDeliveries() throws InterruptedException {
        Duration longest =
                config.settings()
                        .horizon()
                        .plus(config.settings().requestTimeout())
                        .plus(Duration.ofSeconds(1));
        if (!dispatcher.awaitIdle(longest)) {
            LOG.warn(
                    "notifications: {} still undelivered after {}; they are given up with the job",
                    dispatcher.undelivered().size(),
                    longest);
        }
    }

    /**
     * The restored notifications go to the dispatcher, but not those the sent log shows delivered
     * since their checkpoint, nor those for a target no longer configured. Sent as they come, what
     * the log shows is also kept for the alerts the restored job raises again.
     */
    private void resubmitRestored() {
        boolean raisedAgain = !afterCommit && restoredSnapshotMillis != Long.MAX_VALUE;
        if (restored.isEmpty() && !raisedAgain) {
            return;
        }
        Map<String, Integer> targetByFingerprint = new HashMap<>();
        for (int i = 0; i < fingerprints.size(); i++) {
            targetByFingerprint.put(fingerprints.get(i), i);
        }
        Set<String> sent = Set.of();
        if (sentLog != null) {
            long from =
                    Math.min(
                                    restoredSnapshotMillis,
                                    restored.stream()
                                            .mapToLong(s -> s.snapshotMillis)
                                            .min()
                                            .orElse(Long.MAX_VALUE))
                            - SENT_LOG_CLOCK_SKEW.toMillis();
            try {
                sent = SentNotificationLog.keysSince(sentLogLocation, from, SENT_LOG_READ_TIMEOUT);
            } catch (RuntimeException e) {
                // better a notification twice (the receiver has its key) than none
                LOG.warn(
                        "notifications: could not read the sent log {} ({}); the {} owed"
                                + " notifications{} are sent again, with their idempotency keys",
                        sentLogLocation.topic(),
                        e.getMessage(),
                        restored.size(),
                        raisedAgain ? " and those of the alerts raised again" : "");
            }
        }
        if (raisedAgain) {
            sentBeforeRestore.addAll(sent);
        }
        int gone = 0;
        for (NotificationState s : restored) {
            Integer target = targetByFingerprint.get(s.targetFingerprint);
            if (target == null) {
                gone++;
                continue;
            }
            if (sent.contains(SentNotificationLog.key(s.targetFingerprint, s.notification.alert))) {
                skippedAsSent.add(1);
                continue;
            }
            s.notification.target = target;
            dispatcher.submit(s.notification);
        }
        if (gone > 0) {
            LOG.warn(
                    "notifications: {} owed notification(s) restored for targets no longer given"
                            + " with --notify; not sent",
                    gone);
        }
        restored = List.of();
    }

    /** Runs on the dispatcher's thread, the moment a receiver accepted a notification. */
    private void recordDelivery(DeliveryResult result) {
        if (result.delivered() && sentLog != null) {
            PendingNotification n = result.notification();
            sentLog.delivered(
                    SentNotificationLog.key(fingerprints.get(n.target), n.alert),
                    n.alert,
                    result.atMillis());
        }
    }

    private void schedulePoll() {
        getProcessingTimeService()
                .registerTimer(
                        getProcessingTimeService().getCurrentProcessingTime() + POLL_MILLIS,
                        time -> {
                            collectOutcomes();
                            schedulePoll();
                        });
    }

    private void collectOutcomes() {
        long foldedBefore = folded.total;
        for (DeliveryResult r : dispatcher.drainResults()) {
            if (r.delivered()) {
                delivered.add(1);
                continue;
            }
            failed.add(1);
            output.collect(new StreamRecord<>(failedNotification(r)));
        }
        folded.add(dispatcher.foldedCount() - foldedBefore);
    }

    private FailedNotification failedNotification(DeliveryResult r) {
        PendingNotification n = r.notification();
        Alert a = n.alert;
        FailedNotification f = new FailedNotification();
        f.target = config.targets().get(n.target).toString();
        f.alertId = a.alertId;
        f.runId = a.runId;
        f.kind = a.kind;
        f.severity = a.severity;
        f.status = a.status;
        f.idempotencyKey = WebhookRequest.idempotencyKey(a);
        f.attempts = n.attempts;
        f.lastStatus = r.lastStatus();
        f.reason = r.reason();
        f.failedAtMillis = r.atMillis();
        f.alert = JsonWriter.alert(a);
        return f;
    }

    /** A metric and an accumulator of one name (the replay summary reads the accumulators). */
    private final class Count {
        private final Counter metric;
        private final LongCounter accumulator;
        private long total;

        Count(String name) {
            metric = getMetricGroup().counter(name);
            accumulator = new LongCounter();
            getRuntimeContext().addAccumulator(name, accumulator);
        }

        void add(long n) {
            if (n > 0) {
                metric.inc(n);
                accumulator.add(n);
                total += n;
            }
        }
    }
}

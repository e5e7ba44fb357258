package io.trainwatch.notify;

import io.trainwatch.event.Alert;
import io.trainwatch.job.TrainwatchTypes;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PendingNotificationTest {

    static PendingNotification retried() {
        PendingNotification n =
                new PendingNotification(2, WebhookRequestTest.spike(Alert.UPDATE, 2, 20));
        n.attempts = 3;
        n.firstAttemptMillis = 1_700_000_000_000L;
        return n;
    }

    @Test
    void shouldKeyByTargetAndIdempotencyKey() {
        PendingNotification n = retried();

        assertThat(n.key()).isEqualTo("2:" + WebhookRequest.idempotencyKey(n.alert));
        assertThat(new PendingNotification(1, n.alert).key()).isNotEqualTo(n.key());
        assertThat(
                        new PendingNotification(2, WebhookRequestTest.spike(Alert.RESOLVED, 2, 20))
                                .key())
                .isNotEqualTo(n.key());
    }

    @Test
    void shouldCopyEveryFieldAndStayApart() {
        PendingNotification n = retried();

        PendingNotification copy = n.copy();
        assertThat(copy).isEqualTo(n).hasSameHashCodeAs(n).isNotSameAs(n);
        copy.attempts++;
        assertThat(n.attempts).isEqualTo(3);
        assertThat(copy).isNotEqualTo(n);

        PendingNotification later = n.copy();
        later.firstAttemptMillis++;
        assertThat(later).isNotEqualTo(n);
    }

    /** It lives in the delivery operator's state: a POJO, serialized without Kryo. */
    @Test
    void shouldRoundTripAsAFlinkPojoWithoutKryo() throws Exception {
        TrainwatchTypes.register();
        SerializerConfigImpl noKryo = new SerializerConfigImpl();
        noKryo.setGenericTypes(false);
        TypeInformation<PendingNotification> type = TypeInformation.of(PendingNotification.class);
        assertThat(type).isInstanceOf(PojoTypeInfo.class);
        TypeSerializer<PendingNotification> serializer = type.createSerializer(noKryo);

        PendingNotification n = retried();
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(n, out);
        PendingNotification back =
                serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));

        assertThat(back).isEqualTo(n);
    }

    @Test
    void shouldRejectSettingsThatCannotWorkNamingTheField() {
        DispatchSettings defaults = DispatchSettings.defaults();
        assertThat(defaults.maxInFlightPerTarget()).isEqualTo(4);
        assertThat(defaults.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(defaults.baseDelay()).isEqualTo(Duration.ofMillis(500));
        assertThat(defaults.maxDelay()).isEqualTo(Duration.ofSeconds(30));
        assertThat(defaults.horizon()).isEqualTo(Duration.ofMinutes(10));
        assertThat(defaults.slackInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(defaults.maxQueuedPerTarget()).isEqualTo(10_000);
        assertThat(defaults.dryRun()).isFalse();

        assertThatThrownBy(() -> defaults.withMaxInFlightPerTarget(0))
                .hasMessage("maxInFlightPerTarget: must be at least 1, got 0");
        assertThatThrownBy(() -> defaults.withHorizon(Duration.ZERO))
                .hasMessage("horizon: must be a positive duration, got PT0S");
        assertThatThrownBy(() -> defaults.withDelays(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .hasMessage("maxDelay: must not be below baseDelay PT2S, got PT1S");
        assertThatThrownBy(() -> defaults.withMaxQueuedPerTarget(0))
                .hasMessageStartingWith("maxQueuedPerTarget:");
    }
}

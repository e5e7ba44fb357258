package io.trainwatch.job;

import io.trainwatch.event.NamedValues;
import io.trainwatch.schedule.DeclaredSchedule;

import org.apache.flink.api.java.typeutils.TypeExtractor;

/**
 * The types Flink is to use for the values it would otherwise carry as POJOs or not at all: the two
 * values of the plain-Java core that are not Flink POJOs, the parsed schedule ({@link
 * DeclaredScheduleType}) and an alert's evidence and suggestion ({@link NamedValuesType}), and the
 * record every event crosses the keyBy as ({@link RawRecordType}), written without reflection. The
 * core packages know no Flink, so the types are attached here rather than by annotation. Flink
 * extracts types where the job is built and again on each TaskManager when the run state is
 * declared: both call {@link #register()} first.
 */
public final class TrainwatchTypes {
    static {
        TypeExtractor.registerFactory(DeclaredSchedule.class, DeclaredScheduleType.Factory.class);
        TypeExtractor.registerFactory(NamedValues.class, NamedValuesType.Factory.class);
        TypeExtractor.registerFactory(RawRecord.class, RawRecordType.Factory.class);
    }

    private TrainwatchTypes() {}

    /** Idempotent; the work is done once per JVM, when this class is initialized. */
    public static void register() {}
}

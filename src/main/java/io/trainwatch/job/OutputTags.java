package io.trainwatch.job;

import io.trainwatch.event.DeadLetter;
import io.trainwatch.event.SeriesPoint;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/** The pipeline's side outputs, in one place. */
public final class OutputTags {
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));
    public static final OutputTag<SeriesPoint> SERIES =
            new OutputTag<>("series", TypeInformation.of(SeriesPoint.class));

    private OutputTags() {}
}

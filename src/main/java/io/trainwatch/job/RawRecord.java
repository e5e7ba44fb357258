package io.trainwatch.job;

/** One input record as it arrived: the payload text and where it came from (file:line, topic-partition@offset). */
public class RawRecord {
    public String payload;
    public String source;

    public RawRecord() {
    }

    public RawRecord(String payload, String source) {
        this.payload = payload;
        this.source = source;
    }
}

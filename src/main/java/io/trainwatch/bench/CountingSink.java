package io.trainwatch.bench;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/** Counts what reaches it on the named {@link BenchGate}, and drops it. */
final class CountingSink<T> implements Sink<T> {
    private static final long serialVersionUID = 1L;

    private final String gateName;
    private final BenchGate.Count what;

    CountingSink(String gateName, BenchGate.Count what) {
        this.gateName = gateName;
        this.what = what;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) {
        BenchGate gate = BenchGate.named(gateName);
        return new SinkWriter<>() {
            @Override
            public void write(T element, Context context) {
                gate.count(what);
            }

            @Override
            public void flush(boolean endOfInput) {}

            @Override
            public void close() {}
        };
    }
}

package io.trainwatch.job;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.util.function.SerializableFunction;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes one JSON line per element to a local file, for bounded replays: attach it with parallelism
 * 1 so the file has one writer. The file is created empty when the writer opens.
 */
public class JsonLinesFileSink<T> implements Sink<T> {
    private final String path;
    private final SerializableFunction<T, String> toJson;

    public JsonLinesFileSink(Path path, SerializableFunction<T, String> toJson) {
        this.path = path.toAbsolutePath().toString();
        this.toJson = toJson;
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) throws IOException {
        BufferedWriter w =
                Files.newBufferedWriter(
                        Path.of(path),
                        StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE);
        return new SinkWriter<>() {
            @Override
            public void write(T element, Context ctx) throws IOException {
                w.write(toJson.apply(element));
                w.write('\n');
            }

            @Override
            public void flush(boolean endOfInput) throws IOException {
                w.flush();
            }

            @Override
            public void close() throws IOException {
                w.close();
            }
        };
    }
}

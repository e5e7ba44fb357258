package io.trainwatch.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.io.UncheckedIOException;

/**
 * Reads a JSON text trainwatch wrote (an alert, a series point) or a user gave (a spec on the
 * command line) as a tree. Events are read by {@link EventCodec}, which checks them; this reader
 * checks nothing.
 */
public final class JsonReader {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private JsonReader() {}

    /**
     * The tree of {@code json}; null is JSON null, a text that is not JSON an UncheckedIOException.
     */
    public static JsonNode parse(String json) {
        if (json == null) {
            return JsonNodeFactory.instance.nullNode();
        }
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}

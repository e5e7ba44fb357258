package io.trainwatch.importer;

import java.util.List;

/**
 * What an import produced: v1 event lines (JSON, run_start first) and what was left out and why, so
 * that "records read = events + skipped" can be checked.
 */
public record ImportedRun(
        List<String> events, long recordsRead, long skipped, List<String> notes) {}

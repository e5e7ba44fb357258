package io.trainwatch.report;

/**
 * Input the report cannot use, said in one line naming the file and line: {@code series.jsonl:12:
 * ...}.
 */
public final class ReportInputException extends RuntimeException {
    public ReportInputException(String message) {
        super(message);
    }
}

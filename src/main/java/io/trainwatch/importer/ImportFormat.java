package io.trainwatch.importer;

/** The log formats {@code import} reads, by their command-line names. */
public enum ImportFormat {
    HF_TRAINER_STATE("hf-trainer-state"),
    YOLOV5_RESULTS("yolov5-results"),
    DETECTRON2_METRICS("detectron2-metrics"),
    NANOGPT_LOG("modded-nanogpt-log");

    private final String cliName;

    ImportFormat(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static ImportFormat byCliName(String s) {
        for (ImportFormat f : values()) {
            if (f.cliName.equals(s)) {
                return f;
            }
        }
        return null;
    }
}

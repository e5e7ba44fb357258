package io.trainwatch.schedule;

/**
 * torch LambdaLR: {@code base_lr * lambda(index)}, one lambda per group. Hugging Face schedules are
 * built on it.
 */
record LambdaLrSchedule(double[] baseLrs, LrLambda[] lambdas) implements Schedule {
    public int groups() {
        return baseLrs.length;
    }

    public double lr(int group, long index) {
        return baseLrs[group] * lambdas[group].factor(index);
    }
}

package io.trainwatch.schedule;

/** The multiplier a LambdaLR applies to a group's initial LR at scheduler index {@code x}. */
@FunctionalInterface
interface LrLambda {
    double factor(long x);
}

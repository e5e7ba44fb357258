package io.trainwatch.cli;
public class TrainwatchCli { public static void main(String[] a) {} }

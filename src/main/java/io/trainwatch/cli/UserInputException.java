package io.trainwatch.cli;

/**
 * A problem with what the user gave (a missing file, a bad flag value): reported as one line, exit
 * code 2.
 */
final class UserInputException extends RuntimeException {
    UserInputException(String message) {
        super(message);
    }
}

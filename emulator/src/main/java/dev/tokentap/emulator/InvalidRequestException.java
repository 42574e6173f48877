package dev.tokentap.emulator;

/** A request the emulator answers with 400 and an OpenAI-style {@code invalid_request_error}. */
final class InvalidRequestException extends RuntimeException {
  InvalidRequestException(String message) {
    super(message, null, false, false);
  }
}

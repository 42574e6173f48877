package dev.tokentap.proxy.config;

/** A configuration value that cannot be used; the message names the key, the value and what is expected. */
public final class SettingsException extends RuntimeException {
  public SettingsException(String message) {
    super(message);
  }
}

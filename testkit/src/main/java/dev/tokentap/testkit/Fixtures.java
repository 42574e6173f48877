package dev.tokentap.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The byte-exact streaming transcripts of real servers (copied from {@code shared/fixtures/streams};
 * provenance and expected counts in that folder's README.md, shipped beside them).
 */
public final class Fixtures {
  private Fixtures() {}

  /** The exact bytes of fixture {@code name}, e.g. {@code "openai-chat-usage.sse"}. */
  public static byte[] stream(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/streams/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package dev.tokentap.proxy.relay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tokentap.meter.Api;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads what the relay needs from a JSON request body (the {@code model}, whether it
 * streams, whether it asked for usage) and, for usage injection (DESIGN §3), returns the body with
 * {@code stream_options.include_usage} set to true by a minimal edit: the bytes are spliced at the
 * positions the parser reports, so every other byte the client sent reaches the server unchanged
 * (no re-serialisation that could reorder keys or re-escape strings).
 */
final class RequestBodyInspector {
  private static final JsonFactory JSON = new JsonFactory();

  /** What the body says. {@code injectedBody} is null when the body is relayed as it is. */
  record Inspection(String model, boolean stream, boolean clientAskedForUsage, byte[] injectedBody) {
    static final Inspection UNREADABLE = new Inspection(null, false, false, null);
  }

  private RequestBodyInspector() {}

  /**
   * @param api the request's format: usage is injected only into OpenAI-style requests ({@code
   *     stream_options} is an OpenAI option; Ollama's {@code /api/chat} shares the chat route but not
   *     the option)
   */
  static Inspection inspect(byte[] body, Api api, boolean injectUsage) {
    String model = null;
    boolean stream = false;
    Boolean includeUsage = null;
    long topLevelOpen = -1;
    long streamOptionsOpen = -1;
    long includeUsageStart = -1;
    long includeUsageEnd = -1;
    boolean streamOptionsIsObject = false;
    boolean streamOptionsPresent = false;
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return Inspection.UNREADABLE;
      }
      topLevelOpen = p.currentTokenLocation().getByteOffset();
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        switch (name) {
          case "model" -> model = v == JsonToken.VALUE_STRING ? p.getText() : null;
          case "stream" -> stream = v == JsonToken.VALUE_TRUE;
          case "stream_options" -> {
            streamOptionsPresent = true;
            if (v == JsonToken.START_OBJECT) {
              streamOptionsIsObject = true;
              streamOptionsOpen = p.currentTokenLocation().getByteOffset();
              while (p.nextToken() == JsonToken.FIELD_NAME) {
                String option = p.currentName();
                JsonToken ov = p.nextToken();
                if ("include_usage".equals(option)) {
                  includeUsage = ov == JsonToken.VALUE_TRUE;
                  includeUsageStart = p.currentTokenLocation().getByteOffset();
                  p.skipChildren();
                  includeUsageEnd = p.currentLocation().getByteOffset();
                } else {
                  p.skipChildren();
                }
              }
            } else {
              p.skipChildren();
            }
          }
          default -> p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT) {
        return Inspection.UNREADABLE;
      }
    } catch (IOException | RuntimeException e) {
      return Inspection.UNREADABLE;
    }
    boolean asked = Boolean.TRUE.equals(includeUsage);
    byte[] injected = null;
    boolean injectable = api == Api.OPENAI;
    if (injectUsage && injectable && stream && !asked) {
      if (!streamOptionsPresent) {
        injected = splice(body, topLevelOpen + 1, topLevelOpen + 1, "\"stream_options\":{\"include_usage\":true}" + (isEmptyObject(body, topLevelOpen) ? "" : ","));
      } else if (streamOptionsIsObject && includeUsage == null) {
        injected = splice(body, streamOptionsOpen + 1, streamOptionsOpen + 1, "\"include_usage\":true" + (isEmptyObject(body, streamOptionsOpen) ? "" : ","));
      } else if (streamOptionsIsObject) {
        injected = splice(body, includeUsageStart, includeUsageEnd, "true");
      }
      // stream_options of another type (null, a string): the server will judge it; leave it alone.
    }
    return new Inspection(model, stream, asked, injected);
  }

  private static boolean isEmptyObject(byte[] body, long openBrace) {
    for (int i = (int) openBrace + 1; i < body.length; i++) {
      byte b = body[i];
      if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
        continue;
      }
      return b == '}';
    }
    return false;
  }

  private static byte[] splice(byte[] body, long from, long to, String insert) {
    byte[] ins = insert.getBytes(StandardCharsets.UTF_8);
    int f = (int) from;
    int t = (int) to;
    byte[] out = new byte[body.length - (t - f) + ins.length];
    System.arraycopy(body, 0, out, 0, f);
    System.arraycopy(ins, 0, out, f, ins.length);
    System.arraycopy(body, t, out, f + ins.length, body.length - t);
    return out;
  }
}

package dev.tokentap.proxy.relay;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.tokentap.meter.Api;
import java.io.IOException;

/**
 * Reads what the relay needs from a JSON request body (the {@code model}, whether it
 * streams, whether it asked for usage) and, for usage injection (DESIGN §3), returns the body with
 * {@code stream_options.include_usage} set to true by a minimal edit: the bytes are spliced at the
 * positions the parser reports, so every other byte the client sent reaches the server unchanged
 * (no re-serialisation that could reorder keys or re-escape strings).
 *
 * <p>While trace capture is on it also keeps the prompt's first characters for the prefix group,
 * in the same single pass: {@code system} and {@code instructions} first, then the text of {@code
 * messages}, {@code prompt} or {@code input} in order (string contents and the {@code text} of
 * content parts, joined by newlines). With capture off that costs nothing: those fields are
 * skipped as before.
 */
final class RequestBodyInspector {
  private static final JsonFactory JSON = new JsonFactory();

  /**
   * What the body says. {@code injectedBody} is null when the body is relayed as it is; {@code
   * promptHead} is null unless the prompt was asked for, {@code wholePrompt} says it was not cut.
   */
  record Inspection(String model, boolean stream, boolean clientAskedForUsage, byte[] injectedBody, String promptHead, boolean wholePrompt) {
    static final Inspection UNREADABLE = new Inspection(null, false, false, null, null, false);
  }

  private RequestBodyInspector() {}

  /**
   * @param api the request's format: usage is injected only into OpenAI-style requests ({@code
   *     stream_options} is an OpenAI option; Ollama's {@code /api/chat} shares the chat route but not
   *     the option)
   */
  static Inspection inspect(byte[] body, Api api, boolean injectUsage) {
    return inspect(body, api, injectUsage, 0);
  }

  /** @param promptChars how many leading prompt characters to keep; 0: none (capture off) */
  static Inspection inspect(byte[] body, Api api, boolean injectUsage, int promptChars) {
    if (promptChars == 0) {
      // The common case: a byte scanner reads the few fields; anything it does not read exactly
      // as Jackson would (escapes where it matters, malformed JSON) goes the Jackson way below.
      BodyFields fields = RequestBodyScanner.scan(body);
      if (fields != null) {
        return fields.inspection(body, api, injectUsage, null, false);
      }
    }
    return withJackson(body, api, injectUsage, promptChars);
  }

  /** The general path: Jackson's streaming parser, which also reads the prompt when capture asks. */
  static Inspection withJackson(byte[] body, Api api, boolean injectUsage, int promptChars) {
    StringBuilder instructions = promptChars > 0 ? new StringBuilder() : null;
    StringBuilder prompt = promptChars > 0 ? new StringBuilder() : null;
    BodyFields f = new BodyFields();
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return Inspection.UNREADABLE;
      }
      f.topLevelOpen = p.currentTokenLocation().getByteOffset();
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        switch (name) {
          case "model" -> f.model = v == JsonToken.VALUE_STRING ? p.getText() : null;
          case "stream" -> f.stream = v == JsonToken.VALUE_TRUE;
          case "stream_options" -> {
            f.streamOptionsPresent = true;
            if (v == JsonToken.START_OBJECT) {
              f.streamOptionsIsObject = true;
              f.streamOptionsOpen = p.currentTokenLocation().getByteOffset();
              while (p.nextToken() == JsonToken.FIELD_NAME) {
                String option = p.currentName();
                JsonToken ov = p.nextToken();
                if ("include_usage".equals(option)) {
                  f.includeUsage(ov == JsonToken.VALUE_TRUE, ov.isScalarValue() && ov != JsonToken.VALUE_STRING,
                      p.currentTokenLocation().getByteOffset(), -1);
                  p.skipChildren();
                  f.includeUsageEnd = p.currentLocation().getByteOffset();
                } else {
                  p.skipChildren();
                }
              }
            } else {
              p.skipChildren();
            }
          }
          case "system", "instructions" -> text(p, instructions, promptChars);
          case "messages", "prompt", "input" -> text(p, prompt, promptChars);
          default -> p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT) {
        return Inspection.UNREADABLE;
      }
    } catch (IOException | RuntimeException e) {
      return Inspection.UNREADABLE;
    }
    if (promptChars == 0) {
      return f.inspection(body, api, injectUsage, null, false);
    }
    StringBuilder head = instructions;
    if (!prompt.isEmpty()) {
      append(head, prompt, promptChars);
    }
    boolean whole = head.length() <= promptChars;
    head.setLength(Math.min(head.length(), promptChars));
    return f.inspection(body, api, injectUsage, head.toString(), whole);
  }

  /**
   * Appends the text under the current value to {@code out}: strings, and inside objects the values
   * of {@code content} and {@code text}. Stops collecting one character past {@code limit} (that
   * character says the prompt goes on) and skips the rest. {@code out} null: skip the value.
   */
  private static void text(JsonParser p, StringBuilder out, int limit) throws IOException {
    JsonToken t = p.currentToken();
    if (out == null || out.length() > limit) {
      p.skipChildren();
    } else if (t == JsonToken.VALUE_STRING) {
      append(out, p.getText(), limit);
    } else if (t == JsonToken.START_ARRAY) {
      while (p.nextToken() != JsonToken.END_ARRAY) {
        text(p, out, limit);
      }
    } else if (t == JsonToken.START_OBJECT) {
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        p.nextToken();
        if (name.equals("content") || name.equals("text")) {
          text(p, out, limit);
        } else {
          p.skipChildren();
        }
      }
    }
  }

  private static void append(StringBuilder out, CharSequence text, int limit) {
    if (out.length() > limit || text.isEmpty()) {
      return;
    }
    if (!out.isEmpty()) {
      out.append('\n');
    }
    out.append(text, 0, Math.min(text.length(), limit + 1 - out.length()));
  }
}

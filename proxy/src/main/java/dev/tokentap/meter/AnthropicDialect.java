package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Anthropic Messages ({@code /v1/messages}), as api.anthropic.com and llama.cpp's emulation serve
 * it (research/wire-formats.md §7, §13;
 * https://docs.claude.com/en/docs/build-with-claude/streaming).
 *
 * <ul>
 *   <li>Events: {@code event: <type>} plus a JSON object whose {@code type} repeats it (Anthropic
 *       pads objects with spaces: JSON is parsed, never matched).
 *   <li>Token-bearing: {@code content_block_delta} whose delta is a non-empty {@code text_delta}
 *       {@code text} or {@code input_json_delta} {@code partial_json} (visible), or a non-empty
 *       {@code thinking_delta} {@code thinking} (reasoning). {@code signature_delta}, {@code
 *       message_start}, {@code content_block_start}/{@code stop} and {@code ping} carry none.
 *   <li>Terminator: {@code message_stop}.
 *   <li>Usage: {@code message_start.message.usage} gives the input ({@code input_tokens} plus both
 *       cache counts, so that {@code cache_read_input_tokens}, the cached input, is a part of it);
 *       its {@code output_tokens} is a placeholder and is ignored. {@code message_delta.usage
 *       .output_tokens} is cumulative: the last one is N, never a sum.
 *   <li>Error after the 200: {@code event: error} ({@code {"type":"error","error":{…}}}); no
 *       {@code message_stop} follows.
 * </ul>
 *
 * A non-streaming body is a Message ({@code usage.output_tokens} final) or an error object.
 */
final class AnthropicDialect extends JsonObjectDialect {

  @Override
  void readObject(JsonParser parser, byte[] type, int typeLength, boolean body, EventFacts facts)
      throws IOException {
    String jsonType = null;
    byte flags = 0;
    boolean usageSeen = false;
    Usage usage = new Usage();
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "type" -> jsonType = JsonReads.stringOrNull(parser, value);
        case "delta" -> flags = readDelta(parser, value, facts);
        case "stop_reason" -> readStopReason(parser, value, facts); // a non-streaming Message
        case "message" -> usageSeen |= readMessage(parser, value, usage);
        case "usage" -> usageSeen |= readUsage(parser, value, usage);
        case "error" -> {
          facts.error |= value != JsonToken.VALUE_NULL;
          parser.skipChildren();
        }
        default -> parser.skipChildren();
      }
    }
    String eventType = body ? jsonType : typeOf(jsonType, type, typeLength);
    if ("error".equals(eventType)) {
      facts.error = true;
    }
    if (usageSeen) {
      facts.usagePresent = true;
      facts.promptTokens = usage.input();
      facts.cachedTokens = usage.cacheRead;
      facts.reasoningTokens = usage.thinking;
      // message_start's output_tokens is a placeholder (1 to 5): only a delta's or a body's counts.
      boolean placeholder = !body && "message_start".equals(eventType);
      facts.completionTokens = placeholder ? EventFacts.ABSENT : usage.output;
    }
    if (body || eventType == null) {
      return;
    }
    switch (eventType) {
      case "message_stop" -> facts.terminator = true;
      case "content_block_delta" -> addOutput(facts, flags);
      default -> {}
    }
  }

  @Override
  public boolean expectsTerminator() {
    return true;
  }

  /** A {@code content_block_delta}'s delta: what kind of output it carries. */
  private static byte readDelta(JsonParser parser, JsonToken value, EventFacts facts) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return 0;
    }
    byte flags = 0;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken field = parser.nextToken();
      switch (name) {
        case "text", "partial_json" -> {
          if (JsonReads.nonEmptyString(parser, field)) {
            flags |= TOKEN_AND_VISIBLE;
          }
        }
        case "thinking" -> {
          if (JsonReads.nonEmptyString(parser, field)) {
            flags |= EventFacts.TOKEN;
          }
        }
        case "stop_reason" -> readStopReason(parser, field, facts); // message_delta
        default -> parser.skipChildren(); // type, signature, citation, ...
      }
    }
    return flags;
  }

  private static void readStopReason(JsonParser parser, JsonToken value, EventFacts facts) throws IOException {
    if (value == JsonToken.VALUE_STRING) {
      facts.finishReason = FinishReason.of(parser.getText());
    }
    parser.skipChildren();
  }

  private static boolean readMessage(JsonParser parser, JsonToken value, Usage usage)
      throws IOException {
    if (value != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return false;
    }
    boolean seen = false;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken field = parser.nextToken();
      if (name.equals("usage")) {
        seen |= readUsage(parser, field, usage);
      } else {
        parser.skipChildren();
      }
    }
    return seen;
  }

  private static boolean readUsage(JsonParser parser, JsonToken value, Usage usage)
      throws IOException {
    if (value != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return false;
    }
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken field = parser.nextToken();
      switch (name) {
        case "input_tokens" -> usage.input = JsonReads.count(parser, field);
        case "cache_read_input_tokens" -> usage.cacheRead = JsonReads.count(parser, field);
        case "cache_creation_input_tokens" -> usage.cacheCreation = JsonReads.count(parser, field);
        case "output_tokens" -> usage.output = JsonReads.count(parser, field);
        case "output_tokens_details" ->
            usage.thinking = JsonReads.nestedCount(parser, field, "thinking_tokens");
        default -> parser.skipChildren();
      }
    }
    return true;
  }

  /** One usage object's counts, ABSENT when not sent. */
  private static final class Usage {
    long input = EventFacts.ABSENT;
    long cacheRead = EventFacts.ABSENT;
    long cacheCreation = EventFacts.ABSENT;
    long output = EventFacts.ABSENT;
    long thinking = EventFacts.ABSENT;

    /**
     * All input the request consumed: Anthropic's {@code input_tokens} counts only the uncached
     * part.
     */
    long input() {
      if (input == EventFacts.ABSENT) {
        return EventFacts.ABSENT;
      }
      return input + Math.max(cacheRead, 0) + Math.max(cacheCreation, 0);
    }
  }
}

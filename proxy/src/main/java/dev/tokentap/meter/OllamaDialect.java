package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Ollama's native API ({@code /api/chat}, {@code /api/generate}): one JSON object per NDJSON line
 * ({@code application/x-ndjson}), or one object when {@code stream:false} (research/wire-formats.md
 * §8, §13; ollama/ollama {@code api/types.go}, {@code server/routes.go}).
 *
 * <ul>
 *   <li>Token-bearing: non-empty {@code message.content} ({@code /api/chat}) or {@code response}
 *       ({@code /api/generate}), a non-empty {@code message.tool_calls} (visible), or non-empty
 *       {@code thinking} / {@code message.thinking} (reasoning). The done line may carry a last
 *       piece of text.
 *   <li>Terminator: the line with {@code "done":true}.
 *   <li>Usage (on the done line; {@code omitempty}, so 0 is absent): {@code eval_count} is N (it
 *       counts the end token), {@code prompt_eval_count} the input.
 *   <li>Error after the 200: a line {@code {"error":"…"}}, after which the stream ends.
 * </ul>
 */
final class OllamaDialect extends JsonObjectDialect {

  @Override
  void readObject(JsonParser parser, byte[] type, int typeLength, boolean body, EventFacts facts)
      throws IOException {
    byte flags = 0;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "message" -> flags |= readMessage(parser, value);
        case "response" -> {
          if (JsonReads.nonEmptyString(parser, value)) {
            flags |= TOKEN_AND_VISIBLE;
          }
        }
        case "thinking" -> {
          if (JsonReads.nonEmptyString(parser, value)) {
            flags |= EventFacts.TOKEN;
          }
        }
        case "done" -> facts.terminator = value == JsonToken.VALUE_TRUE;
        case "done_reason" -> {
          if (value == JsonToken.VALUE_STRING) {
            facts.finishReason = FinishReason.of(parser.getText());
          }
          parser.skipChildren();
        }
        case "eval_count" -> {
          facts.usagePresent = true;
          facts.completionTokens = JsonReads.count(parser, value);
        }
        case "prompt_eval_count" -> {
          facts.usagePresent = true;
          facts.promptTokens = JsonReads.count(parser, value);
        }
        case "error" -> {
          facts.error |= value != JsonToken.VALUE_NULL;
          parser.skipChildren();
        }
        default -> parser.skipChildren();
      }
    }
    if (!body) {
      addOutput(facts, flags);
    }
  }

  @Override
  public boolean expectsTerminator() {
    return true;
  }

  private static byte readMessage(JsonParser parser, JsonToken value) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return 0;
    }
    byte flags = 0;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken field = parser.nextToken();
      switch (name) {
        case "content" -> {
          if (JsonReads.nonEmptyString(parser, field)) {
            flags |= TOKEN_AND_VISIBLE;
          }
        }
        case "thinking" -> {
          if (JsonReads.nonEmptyString(parser, field)) {
            flags |= EventFacts.TOKEN;
          }
        }
        case "tool_calls" -> {
          if (JsonReads.nonEmptyArray(parser, field)) {
            flags |= TOKEN_AND_VISIBLE;
          }
        }
        default -> parser.skipChildren();
      }
    }
    return flags;
  }
}

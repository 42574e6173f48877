package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Hugging Face TGI's native API: {@code /generate_stream} (SSE, one event per token) and {@code
 * /generate} (one JSON object) (research/wire-formats.md §9, §13;
 * huggingface/text-generation-inference {@code router/src/lib.rs} {@code StreamResponse}, {@code
 * router/src/server.rs}).
 *
 * <ul>
 *   <li>Token-bearing: every event with a {@code token} object, even with text {@code ""} (an
 *       incomplete UTF-8 character) or a special token (EOS, counted by the server; not visible).
 *   <li>Terminator: the event whose {@code generated_text} or {@code details} is set; no {@code
 *       [DONE]}. The {@code :} keep-alive comments axum sends are not events.
 *   <li>N: {@code details.generated_tokens} (only with {@code details:true}), else the last token
 *       {@code index} (1-based, counts tokens); {@code details.input_length} is the input.
 *   <li>Error after the 200: {@code {"error":"…","error_type":"…"}}.
 * </ul>
 */
final class TgiDialect extends JsonObjectDialect {

  @Override
  void readObject(JsonParser parser, byte[] type, int typeLength, boolean body, EventFacts facts)
      throws IOException {
    byte flags = 0;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "token" -> flags = readToken(parser, value);
        case "index" -> facts.cumulativeOutputTokens = JsonReads.count(parser, value);
        case "generated_text" -> {
          facts.terminator |= value != JsonToken.VALUE_NULL;
          parser.skipChildren();
        }
        case "details" -> {
          if (value == JsonToken.START_OBJECT) {
            facts.terminator = true;
            readDetails(parser, facts);
          } else {
            parser.skipChildren();
          }
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

  private static byte readToken(JsonParser parser, JsonToken value) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return 0;
    }
    boolean special = false;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken field = parser.nextToken();
      if (name.equals("special")) {
        special = field == JsonToken.VALUE_TRUE;
      } else {
        parser.skipChildren();
      }
    }
    return special ? EventFacts.TOKEN : TOKEN_AND_VISIBLE;
  }

  private static void readDetails(JsonParser parser, EventFacts facts) throws IOException {
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken field = parser.nextToken();
      switch (name) {
        case "generated_tokens" -> {
          facts.usagePresent = true;
          facts.completionTokens = JsonReads.count(parser, field);
        }
        case "input_length" -> {
          facts.usagePresent = true;
          facts.promptTokens = JsonReads.count(parser, field);
        }
        default -> parser.skipChildren();
      }
    }
  }
}

package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Embeddings: OpenAI {@code /v1/embeddings} ({@code usage.prompt_tokens}) and Ollama {@code
 * /api/embed} ({@code prompt_eval_count}). One JSON body, no output: the record gets the latency
 * and the input tokens, never a TTFT, and N is 0.
 */
final class EmbeddingsDialect extends JsonObjectDialect {

  @Override
  void readObject(JsonParser parser, byte[] type, int typeLength, boolean body, EventFacts facts)
      throws IOException {
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "usage" -> {
          long prompt = JsonReads.nestedCount(parser, value, "prompt_tokens");
          if (prompt != EventFacts.ABSENT) {
            facts.usagePresent = true;
            facts.promptTokens = prompt;
          }
        }
        case "prompt_eval_count" -> {
          facts.usagePresent = true;
          facts.promptTokens = JsonReads.count(parser, value);
        }
        case "error" -> {
          facts.error |= value != JsonToken.VALUE_NULL;
          parser.skipChildren();
        }
        default -> parser.skipChildren(); // data: the vectors, skipped without being decoded
      }
    }
  }

  @Override
  public boolean expectsTerminator() {
    return false;
  }

  @Override
  public boolean generatesOutput() {
    return false;
  }
}

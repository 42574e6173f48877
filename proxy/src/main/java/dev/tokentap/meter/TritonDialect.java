package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Triton / KServe generate extension: {@code /v2/models/<m>[/versions/<v>]/generate_stream} (SSE
 * {@code data:} only) and {@code /generate} (one JSON object) (research/wire-formats.md §11, §13;
 * triton-inference-server/server {@code docs/protocol/extension_generate.md}, vllm_backend {@code
 * docs/additional_outputs.md}).
 *
 * <ul>
 *   <li>Token-bearing: every response object that is not an error. Output names depend on the
 *       model ({@code text_output} for the vLLM and TensorRT-LLM ensembles), so none is required;
 *       but a response whose {@code text_output} is {@code ""}, or whose {@code num_output_tokens}
 *       is 0, carries none.
 *   <li>Terminator: none; the stream ends with the body, so a clean end is the terminator and only
 *       a broken connection is a truncation.
 *   <li>N: the sum of the opt-in {@code num_output_tokens} (tokens in this response), else the
 *       number of responses; {@code num_input_tokens} is the input.
 *   <li>Error after the 200: {@code {"error":"…"}}.
 * </ul>
 */
final class TritonDialect extends JsonObjectDialect {

  @Override
  void readObject(JsonParser parser, byte[] type, int typeLength, boolean body, EventFacts facts)
      throws IOException {
    long outputTokens = EventFacts.ABSENT;
    boolean emptyText = false;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "num_output_tokens" -> outputTokens = countOrFirst(parser, value);
        case "text_output" -> {
          boolean nonEmpty = JsonReads.nonEmptyString(parser, value); // skips a non-string
          emptyText = value == JsonToken.VALUE_STRING && !nonEmpty;
        }
        case "num_input_tokens" -> {
          long input = countOrFirst(parser, value);
          if (input != EventFacts.ABSENT) {
            facts.usagePresent = true;
            facts.promptTokens = input;
          }
        }
        case "error" -> {
          facts.error |= value != JsonToken.VALUE_NULL;
          parser.skipChildren();
        }
        default -> parser.skipChildren();
      }
    }
    if (facts.error) {
      return;
    }
    if (body) {
      if (outputTokens != EventFacts.ABSENT) {
        facts.usagePresent = true;
        facts.completionTokens = outputTokens;
      }
      return;
    }
    facts.eventTokens = outputTokens;
    // A closing response with no text (vllm_backend's last, carrying finish_reason) is no token,
    // unless the server counts tokens in it.
    boolean token = outputTokens == EventFacts.ABSENT ? !emptyText : outputTokens > 0;
    addOutput(facts, token ? TOKEN_AND_VISIBLE : 0);
  }

  @Override
  public boolean expectsTerminator() {
    return false;
  }

  /** A count sent as a number or, as tensors are, a one-element array. */
  private static long countOrFirst(JsonParser parser, JsonToken value) throws IOException {
    if (value != JsonToken.START_ARRAY) {
      return JsonReads.count(parser, value);
    }
    long first = EventFacts.ABSENT;
    JsonToken element;
    boolean firstElement = true;
    while ((element = parser.nextToken()) != JsonToken.END_ARRAY) {
      long count = JsonReads.count(parser, element);
      if (firstElement) {
        first = count;
        firstElement = false;
      }
    }
    return first;
  }
}

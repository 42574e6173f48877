package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * OpenAI Responses API ({@code /v1/responses}), as OpenAI, vLLM and llama.cpp serve it
 * (research/wire-formats.md §6, §13; openai/openai-openapi {@code ResponseStreamEvent}).
 *
 * <ul>
 *   <li>Events: {@code event: <type>} plus a JSON object whose {@code type} repeats it (vLLM sorts
 *       keys, so {@code type} may come last: the whole object is read before deciding).
 *   <li>Token-bearing: any {@code *.delta} event with a non-empty string {@code delta}: output
 *       text, refusal, function-call and custom-tool arguments, audio transcript, code. Reasoning
 *       ({@code response.reasoning_text.delta}, {@code response.reasoning_summary_text.delta}) is
 *       not visible output. {@code response.created}, {@code in_progress}, {@code *.added}, {@code
 *       *.done} carry none.
 *   <li>Terminator: {@code response.completed}, {@code response.incomplete} or {@code
 *       response.failed}; there is no {@code [DONE]}.
 *   <li>Usage: {@code response.usage} of the terminal event ({@code input_tokens}, {@code
 *       output_tokens}, {@code input_tokens_details.cached_tokens}, {@code
 *       output_tokens_details.reasoning_tokens}).
 *   <li>Error after the 200: {@code event: error} (payload nested in {@code error}, or flat as the
 *       OpenAPI schema has it) and {@code response.failed}.
 *   <li>{@code response.incomplete} is a normal, cut-short answer: its {@code
 *       incomplete_details.reason} ({@code max_output_tokens}, {@code content_filter}) is the finish
 *       reason ({@code length}, {@code content_filter}), as {@code finish_reason: "length"} is in
 *       chat; the outcome stays {@code ok}.
 * </ul>
 *
 * A non-streaming body is a Response object: its {@code usage}, {@code status} ({@code
 * incomplete} read the same way) and {@code error}.
 */
final class ResponsesDialect extends JsonObjectDialect {

  @Override
  void readObject(JsonParser parser, byte[] type, int typeLength, boolean body, EventFacts facts)
      throws IOException {
    String jsonType = null;
    boolean delta = false;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "type" -> jsonType = JsonReads.stringOrNull(parser, value);
        case "delta" -> delta = JsonReads.nonEmptyString(parser, value);
        case "response" -> {
          if (value == JsonToken.START_OBJECT) {
            readResponse(parser, facts);
          } else {
            parser.skipChildren();
          }
        }
        case "usage" -> readUsageOrSkip(parser, value, facts); // a non-streaming Response
        case "status" -> {
          if (body && value == JsonToken.VALUE_STRING) {
            readStatus(parser, facts);
          }
          parser.skipChildren();
        }
        case "incomplete_details" -> readIncompleteDetails(parser, value, facts);
        case "error" -> {
          facts.error |= value != JsonToken.VALUE_NULL;
          parser.skipChildren();
        }
        default -> parser.skipChildren();
      }
    }
    if (body) {
      return;
    }
    String eventType = typeOf(jsonType, type, typeLength);
    if (eventType == null) {
      return;
    }
    switch (eventType) {
      case "response.completed" -> {
        facts.terminator = true;
        facts.finishReason = FinishReason.STOP;
      }
      case "response.incomplete" -> {
        // A length-limited (or filtered) answer, as finish_reason "length" is in chat: not an error.
        facts.terminator = true;
        if (facts.finishReason == null) {
          facts.finishReason = FinishReason.OTHER; // no incomplete_details.reason given
        }
      }
      case "response.failed" -> {
        facts.terminator = true;
        facts.error = true;
        facts.finishReason = FinishReason.ERROR;
      }
      case "error" -> facts.error = true;
      default -> {
        if (delta && eventType.endsWith(".delta")) {
          addOutput(facts, isReasoning(eventType) ? EventFacts.TOKEN : TOKEN_AND_VISIBLE);
        }
      }
    }
  }

  @Override
  public boolean expectsTerminator() {
    return true;
  }

  private static boolean isReasoning(String eventType) {
    return eventType.startsWith("response.reasoning");
  }

  /** The {@code response} object of a lifecycle event: its usage and why it was incomplete. */
  private static void readResponse(JsonParser parser, EventFacts facts) throws IOException {
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "usage" -> readUsageOrSkip(parser, value, facts);
        case "incomplete_details" -> readIncompleteDetails(parser, value, facts);
        default -> parser.skipChildren();
      }
    }
  }

  /** A non-streaming Response's {@code status}: completed, incomplete or failed. */
  private static void readStatus(JsonParser parser, EventFacts facts) throws IOException {
    if (JsonReads.textEquals(parser, "failed")) {
      facts.error = true;
      facts.finishReason = FinishReason.ERROR;
    } else if (JsonReads.textEquals(parser, "completed")) {
      facts.finishReason = facts.finishReason == null ? FinishReason.STOP : facts.finishReason;
    } else if (JsonReads.textEquals(parser, "incomplete") && facts.finishReason == null) {
      facts.finishReason = FinishReason.OTHER;
    }
  }

  /** {@code incomplete_details: {"reason": "max_output_tokens" | "content_filter"}}. */
  private static void readIncompleteDetails(JsonParser parser, JsonToken value, EventFacts facts) throws IOException {
    if (value != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return;
    }
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken field = parser.nextToken();
      if (name.equals("reason") && field == JsonToken.VALUE_STRING) {
        facts.finishReason = FinishReason.of(parser.getText());
      }
      parser.skipChildren();
    }
  }

  private static void readUsageOrSkip(JsonParser parser, JsonToken value, EventFacts facts)
      throws IOException {
    if (value != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return;
    }
    facts.usagePresent = true;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken field = parser.nextToken();
      switch (name) {
        case "input_tokens" -> facts.promptTokens = JsonReads.count(parser, field);
        case "output_tokens" -> facts.completionTokens = JsonReads.count(parser, field);
        case "total_tokens" -> facts.totalTokens = JsonReads.count(parser, field);
        case "input_tokens_details" ->
            facts.cachedTokens = JsonReads.nestedCount(parser, field, "cached_tokens");
        case "output_tokens_details" ->
            facts.reasoningTokens = JsonReads.nestedCount(parser, field, "reasoning_tokens");
        default -> parser.skipChildren();
      }
    }
  }
}

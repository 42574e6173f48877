package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code POST /v1/responses}, the OpenAI Responses API, framed as api.openai.com frames it
 * (wire-formats §6, fixtures {@code openai-responses*.sse}).
 *
 * <pre>
 * event: response.created        {"type":"response.created","sequence_number":0,"response":{…"status":"in_progress",…}}
 * event: response.in_progress    {…,"sequence_number":1,…}
 * event: response.output_item.added / response.content_part.added      (with the first token)
 * event: response.output_text.delta   {…,"item_id":"msg_…","output_index":0,"content_index":0,"delta":" the","logprobs":[]}
 * …
 * event: response.output_text.done / response.content_part.done / response.output_item.done
 * event: response.completed      {…"response":{…"status":"completed",…,"usage":{"input_tokens":…,…}}}
 * </pre>
 *
 * Every event is {@code event: TYPE\ndata: JSON\n\n}, numbered by {@code sequence_number}; no
 * {@code [DONE]}. A response cut by {@code max_output_tokens} ends with {@code response.incomplete}
 * ({@code incomplete_details.reason: max_output_tokens}), as the real API does. The {@code
 * obfuscation} padding of the real deltas is left out: it is optional and carries nothing. One
 * output per request (no {@code n}); the emulator's {@code seed} and {@code ignore_eos} are
 * accepted as extensions.
 */
final class ResponsesFraming implements ApiFraming {

  static final ResponsesFraming INSTANCE = new ResponsesFraming();

  @Override
  public String route() {
    return "responses";
  }

  @Override
  public GenerationRequest parse(JsonNode body, EmulatorSettings settings) {
    StringBuilder prompt = new StringBuilder();
    int messages = 0;
    int contentTokens = 0;
    String instructions = OpenAiJson.optionalText(body, "instructions");
    if (instructions != null) {
      prompt.append("system\n").append(instructions).append('\n');
      messages++;
      contentTokens += PromptTokenEstimator.messageContent(instructions);
    }
    JsonNode input = body.get("input");
    if (input != null && input.isTextual()) {
      prompt.append("user\n").append(input.textValue()).append('\n');
      messages++;
      contentTokens += PromptTokenEstimator.messageContent(input.textValue());
    } else if (input != null && input.isArray() && !input.isEmpty()) {
      for (JsonNode item : input) {
        if (!item.isObject()) {
          throw new InvalidRequestException("input: " + item + " (expected: an input item object)");
        }
        String role = OpenAiJson.optionalText(item, "role");
        // Items without content (function call outputs, …) count with their output text.
        JsonNode content = item.has("content") ? item.get("content") : item.get("output");
        String text = ChatCompletionFraming.contentText(content);
        prompt.append(role == null ? "" : role).append('\n').append(text).append('\n');
        messages++;
        contentTokens += PromptTokenEstimator.messageContent(text);
      }
    } else {
      throw new InvalidRequestException(
          "input: " + input + " (expected: a string or a non-empty array of input items)");
    }
    String model = OpenAiJson.optionalText(body, "model");
    Integer max = OpenAiJson.optionalInt(body, "max_output_tokens", 1, Integer.MAX_VALUE);
    return new GenerationRequest(
        route(),
        model == null ? settings.servedModelName() : model,
        prompt.toString(),
        PromptTokenEstimator.chat(messages, contentTokens),
        max == null ? settings.defaultMaxTokens() : max,
        OpenAiJson.optionalBoolean(body, "ignore_eos"),
        OpenAiJson.optionalLong(body, "seed"),
        1,
        OpenAiJson.optionalBoolean(body, "stream"),
        false,
        false,
        OutputFormat.TEXT);
  }

  @Override
  public ResponseContext newResponse(GenerationRequest request) {
    return new ResponseContext(
        request,
        OpenAiJson.newId("resp_"),
        System.currentTimeMillis() / 1000,
        OpenAiJson.quote(request.model()));
  }

  /** The output message's id, derived from the response's (the same random digits). */
  private static String itemId(ResponseContext r) {
    return "msg_" + r.id().substring("resp_".length());
  }

  @Override
  public void appendStreamStart(ResponseContext r, StringBuilder out) {
    for (String type : new String[] {"response.created", "response.in_progress"}) {
      event(out, r, type).append(",\"response\":");
      appendResponse(out, r, "in_progress", null, null, null);
      out.append("}\n\n");
    }
  }

  @Override
  public void appendChunk(
      ResponseContext r,
      int choice,
      boolean first,
      CharSequence text,
      int choiceTokens,
      String finishReason,
      StringBuilder out) {
    open(r, out);
    if (text.length() > 0) { // the end-of-sequence token has no text, and no delta
      itemEvent(out, r, "response.output_text.delta").append(",\"delta\":");
      OpenAiJson.appendString(out, text);
      out.append(",\"logprobs\":[]}\n\n");
      r.state().text.append(text);
    }
    if (finishReason != null) {
      r.state().finishReason = finishReason;
    }
  }

  /** The output item and its text part, opened with the first token as the real API does. */
  private static void open(ResponseContext r, StringBuilder out) {
    if (r.state().opened) {
      return;
    }
    r.state().opened = true;
    event(out, r, "response.output_item.added").append(",\"output_index\":0,\"item\":");
    appendItem(out, r, "in_progress", "");
    out.append("}\n\n");
    itemEvent(out, r, "response.content_part.added").append(",\"part\":");
    appendPart(out, "");
    out.append("}\n\n");
  }

  @Override
  public void appendStreamEnd(ResponseContext r, Usage usage, StringBuilder out) {
    open(r, out);
    StringBuilder text = r.state().text;
    boolean complete = !"length".equals(r.state().finishReason);
    String itemStatus = complete ? "completed" : "incomplete";
    itemEvent(out, r, "response.output_text.done").append(",\"text\":");
    OpenAiJson.appendString(out, text);
    out.append(",\"logprobs\":[]}\n\n");
    itemEvent(out, r, "response.content_part.done").append(",\"part\":");
    appendPart(out, text);
    out.append("}\n\n");
    event(out, r, "response.output_item.done").append(",\"output_index\":0,\"item\":");
    appendItem(out, r, itemStatus, text);
    out.append("}\n\n");
    event(out, r, complete ? "response.completed" : "response.incomplete").append(",\"response\":");
    appendResponse(out, r, itemStatus, null, text, usage);
    out.append("}\n\n");
  }

  @Override
  public void appendStreamError(ResponseContext r, String message, StringBuilder out) {
    // As recorded: the error event nests its error, response.failed carries it in the response.
    event(out, r, "error")
        .append(",\"error\":{\"type\":\"server_error\",\"code\":\"server_error\",\"message\":");
    OpenAiJson.appendString(out, message);
    out.append(",\"param\":null}}\n\n");
    event(out, r, "response.failed").append(",\"response\":");
    appendResponse(out, r, "failed", message, null, null);
    out.append("}\n\n");
  }

  @Override
  public String completeBody(
      ResponseContext r,
      List<? extends CharSequence> texts,
      List<String> finishReasons,
      Usage usage) {
    StringBuilder out = new StringBuilder(1024);
    String status = "length".equals(finishReasons.get(0)) ? "incomplete" : "completed";
    appendResponse(out, r, status, null, texts.get(0), usage);
    return out.toString();
  }

  /** {@code event: TYPE\ndata: {"type":TYPE,"sequence_number":N}, left open after N. */
  private static StringBuilder event(StringBuilder out, ResponseContext r, String type) {
    return out.append("event: ")
        .append(type)
        .append("\ndata: {\"type\":\"")
        .append(type)
        .append("\",\"sequence_number\":")
        .append(r.state().sequence++);
  }

  /** An event about the text part: {@link #event} plus the item, output and content indexes. */
  private static StringBuilder itemEvent(StringBuilder out, ResponseContext r, String type) {
    return event(out, r, type)
        .append(",\"item_id\":\"")
        .append(itemId(r))
        .append("\",\"output_index\":0,\"content_index\":0");
  }

  private static void appendPart(StringBuilder out, CharSequence text) {
    out.append("{\"type\":\"output_text\",\"annotations\":[],\"logprobs\":[],\"text\":");
    OpenAiJson.appendString(out, text);
    out.append('}');
  }

  private static void appendItem(
      StringBuilder out, ResponseContext r, String status, CharSequence text) {
    out.append("{\"id\":\"")
        .append(itemId(r))
        .append("\",\"type\":\"message\",\"status\":\"")
        .append(status)
        .append("\",\"content\":[");
    if (!status.equals("in_progress")) {
      appendPart(out, text);
    }
    out.append("],\"role\":\"assistant\"}");
  }

  /**
   * The response object with every field the real API sends (the SDKs validate them): {@code text}
   * null for no output item, {@code usage} null until the end, {@code error} on failure.
   */
  private static void appendResponse(
      StringBuilder out,
      ResponseContext r,
      String status,
      String error,
      CharSequence text,
      Usage usage) {
    out.append("{\"id\":\"")
        .append(r.id())
        .append("\",\"object\":\"response\",\"created_at\":")
        .append(r.created())
        .append(",\"status\":\"")
        .append(status)
        .append("\",\"background\":false,\"error\":");
    if (error == null) {
      out.append("null");
    } else {
      out.append("{\"code\":\"server_error\",\"message\":");
      OpenAiJson.appendString(out, error);
      out.append('}');
    }
    out.append(",\"incomplete_details\":")
        .append(status.equals("incomplete") ? "{\"reason\":\"max_output_tokens\"}" : "null")
        .append(",\"instructions\":null,\"max_output_tokens\":")
        .append(r.request().maxTokens())
        .append(",\"max_tool_calls\":null,\"model\":")
        .append(r.modelJson())
        .append(",\"output\":[");
    if (text != null) {
      appendItem(out, r, status, text);
    }
    out.append(
        "],\"parallel_tool_calls\":true,\"previous_response_id\":null,\"prompt_cache_key\":null,"
            + "\"reasoning\":{\"effort\":null,\"summary\":null},\"safety_identifier\":null,"
            + "\"service_tier\":\"default\",\"store\":false,\"temperature\":1.0,"
            + "\"text\":{\"format\":{\"type\":\"text\"},\"verbosity\":\"medium\"},"
            + "\"tool_choice\":\"auto\",\"tools\":[],\"top_logprobs\":0,\"top_p\":1.0,"
            + "\"truncation\":\"disabled\",\"usage\":");
    if (usage == null) {
      out.append("null");
    } else {
      out.append("{\"input_tokens\":")
          .append(usage.promptTokens())
          .append(",\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":")
          .append(usage.completionTokens())
          .append(",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":")
          .append(usage.totalTokens())
          .append('}');
    }
    out.append(",\"user\":null,\"metadata\":{}}");
  }
}

package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code POST /v1/completions}, framed as vLLM frames it (wire-formats §3, §5).
 *
 * <pre>
 * data: {"id":"cmpl-…","object":"text_completion","created":…,"model":"…","choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}
 * …
 * data: {…"choices":[{"index":0,"text":" end","logprobs":null,"finish_reason":"length","stop_reason":null}],"usage":null}
 * data: {…"choices":[],"usage":{"prompt_tokens":5,"total_tokens":21,"completion_tokens":16}}   (include_usage only)
 * data: [DONE]
 * </pre>
 *
 * No role chunk; vLLM serialises these chunks with unset fields, hence {@code "usage":null} and
 * {@code "stop_reason":null} on each (a running usage instead with {@code continuous_usage_stats}).
 * The prompt is a string, a one-string array, or an array of token ids; several prompts in one
 * request are not emulated.
 */
final class CompletionFraming implements ApiFraming {

  static final CompletionFraming INSTANCE = new CompletionFraming();

  private static final String CHUNK = "text_completion";

  @Override
  public String route() {
    return "completions";
  }

  @Override
  public GenerationRequest parse(JsonNode body, EmulatorSettings settings) {
    JsonNode prompt = body.get("prompt");
    String promptText;
    int promptTokens;
    if (prompt != null && prompt.isTextual()) {
      promptText = prompt.textValue();
      promptTokens = PromptTokenEstimator.text(promptText);
    } else if (prompt != null
        && prompt.isArray()
        && prompt.size() == 1
        && prompt.get(0).isTextual()) {
      promptText = prompt.get(0).textValue();
      promptTokens = PromptTokenEstimator.text(promptText);
    } else if (prompt != null && prompt.isArray() && !prompt.isEmpty() && allIntegers(prompt)) {
      promptText = prompt.toString();
      promptTokens = prompt.size();
    } else {
      throw new InvalidRequestException(
          "prompt: "
              + prompt
              + " (expected: a string, or an array of token ids; one prompt per request)");
    }
    OpenAiJson.CommonFields f = OpenAiJson.commonFields(body, "max_tokens", settings);
    return new GenerationRequest(
        route(),
        f.model(),
        promptText,
        promptTokens,
        f.maxTokens(),
        f.ignoreEos(),
        f.seed(),
        f.n(),
        f.stream(),
        f.includeUsage(),
        f.continuousUsage(),
        OutputFormat.TEXT);
  }

  private static boolean allIntegers(JsonNode array) {
    for (JsonNode e : array) {
      if (!e.isIntegralNumber()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public ResponseContext newResponse(GenerationRequest request) {
    return new ResponseContext(
        request,
        OpenAiJson.newId("cmpl-"),
        System.currentTimeMillis() / 1000,
        OpenAiJson.quote(request.model()));
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
    OpenAiJson.appendChunkHead(out, r, CHUNK);
    out.append("{\"index\":").append(choice).append(",\"text\":");
    OpenAiJson.appendString(out, text);
    out.append(",\"logprobs\":null,\"finish_reason\":");
    if (finishReason == null) {
      out.append("null");
    } else {
      out.append('"').append(finishReason).append('"');
    }
    out.append(",\"stop_reason\":null}],\"usage\":");
    if (r.request().continuousUsage()) {
      OpenAiJson.appendUsage(out, r.request().promptTokens(), choiceTokens);
    } else {
      out.append("null");
    }
    out.append("}\n\n");
  }

  @Override
  public void appendStreamEnd(ResponseContext r, Usage usage, StringBuilder out) {
    OpenAiJson.appendStreamEnd(out, r, CHUNK, usage);
  }

  @Override
  public void appendStreamError(ResponseContext r, String message, StringBuilder out) {
    OpenAiJson.appendStreamError(out, message);
  }

  @Override
  public String completeBody(
      ResponseContext r,
      List<? extends CharSequence> texts,
      List<String> finishReasons,
      Usage usage) {
    StringBuilder out = new StringBuilder(256);
    out.append("{\"id\":\"")
        .append(r.id())
        .append("\",\"object\":\"text_completion\",\"created\":")
        .append(r.created())
        .append(",\"model\":")
        .append(r.modelJson())
        .append(",\"choices\":[");
    for (int i = 0; i < texts.size(); i++) {
      out.append(i == 0 ? "" : ",").append("{\"index\":").append(i).append(",\"text\":");
      OpenAiJson.appendString(out, texts.get(i));
      out.append(",\"logprobs\":null,\"finish_reason\":\"")
          .append(finishReasons.get(i))
          .append("\",\"stop_reason\":null}");
    }
    out.append("],\"usage\":");
    OpenAiJson.appendUsage(out, usage.promptTokens(), usage.completionTokens());
    return out.append('}').toString();
  }
}

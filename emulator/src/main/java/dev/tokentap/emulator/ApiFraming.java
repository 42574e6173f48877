package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One API's request shape and wire format. The exchange drives it with engine output; it only turns
 * that output into bytes. Adding an API (the Responses API, Anthropic Messages, Ollama {@code
 * /api/chat}) is one implementation plus one line in {@link EmulatorHttpHandler}'s route table.
 *
 * <p>The {@code append*} methods write complete stream events (for SSE, each ending in its blank
 * line) into {@code out}; the exchange writes what one engine step produced as one HTTP chunk.
 */
interface ApiFraming {

  /** Route label of this API ({@code chat}, {@code completions}, ...). */
  String route();

  /**
   * Reads the request body.
   *
   * @throws InvalidRequestException naming what is wrong
   */
  GenerationRequest parse(JsonNode body, EmulatorSettings settings);

  /** Identity of one response: a fresh id, the creation time and the model, for every event. */
  ResponseContext newResponse(GenerationRequest request);

  /** Content type of a streamed response. */
  default String streamContentType() {
    // As vLLM sends it (Starlette adds the charset to text/ types).
    return "text/event-stream; charset=utf-8";
  }

  /**
   * Events before any output (none for the OpenAI APIs; {@code response.created} for Responses).
   */
  default void appendStreamStart(ResponseContext response, StringBuilder out) {}

  /**
   * One chunk of choice {@code choice}'s output.
   *
   * @param first whether this is the choice's first chunk
   * @param text the text of the chunk's tokens (may be empty: an end-of-sequence token)
   * @param choiceTokens output tokens of this choice so far, this chunk's included
   * @param finishReason non-null on the choice's last chunk
   */
  void appendChunk(
      ResponseContext response,
      int choice,
      boolean first,
      CharSequence text,
      int choiceTokens,
      String finishReason,
      StringBuilder out);

  /** Events after every choice finished: the usage event if asked for, then the terminator. */
  void appendStreamEnd(ResponseContext response, Usage usage, StringBuilder out);

  /** An error after the stream started, and what follows it (vLLM: {@code [DONE]}). */
  void appendStreamError(ResponseContext response, String message, StringBuilder out);

  /**
   * The body of an error response before any output (HTTP {@code status}). The OpenAI APIs use
   * {@code openAiType} and {@code codeJson}; the other APIs map {@code status} to their own shape.
   */
  default String errorBody(int status, String openAiType, String codeJson, String message) {
    return OpenAiJson.errorJson(message, openAiType, codeJson);
  }

  /** The body of a non-streamed response. */
  String completeBody(
      ResponseContext response,
      List<? extends CharSequence> texts,
      List<String> finishReasons,
      Usage usage);

  /**
   * Identity of one response.
   *
   * @param modelJson the model as a JSON string literal, quotes included (escaped once, used in
   *     every event)
   */
  record ResponseContext(
      GenerationRequest request, String id, long created, String modelJson, StreamState state) {

    ResponseContext(GenerationRequest request, String id, long created, String modelJson) {
      this(request, id, created, modelJson, new StreamState());
    }
  }

  /**
   * What an API must remember between the events of one stream (the framings are shared
   * singletons): the Responses API numbers every event and repeats the whole text at the end;
   * Anthropic and Responses open their content block with the first chunk. Event loop only.
   */
  final class StreamState {
    /** Next {@code sequence_number} (Responses API). */
    int sequence;

    /** Whether the content block / output item was opened. */
    boolean opened;

    /** The first choice's finish reason, once its last chunk went out. */
    String finishReason;

    /** Every streamed text so far (Responses API's {@code *.done} events repeat it). */
    final StringBuilder text = new StringBuilder();

    /**
     * Per choice, the function it calls (its text is then the arguments' JSON), or null for a text
     * answer; null when no choice calls one. APIs without tool calls in the emulator send text.
     */
    String[] toolNames;

    String toolName(int choice) {
      return toolNames == null ? null : toolNames[choice];
    }
  }

  /**
   * Token counts for a usage object, and when the tokens came ({@link System#nanoTime()}, -1 where
   * unknown) for the APIs that report durations (Ollama).
   */
  record Usage(
      int promptTokens,
      int completionTokens,
      long arrivalNanos,
      long firstTokenNanos,
      long lastTokenNanos) {

    Usage(int promptTokens, int completionTokens) {
      this(promptTokens, completionTokens, -1, -1, -1);
    }

    int totalTokens() {
      return promptTokens + completionTokens;
    }
  }
}

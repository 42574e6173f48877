package dev.tokentap.meter;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * OpenAI Chat Completions ({@code /v1/chat/completions}) and legacy Completions ({@code
 * /v1/completions}), as OpenAI, vLLM, SGLang, TGI and llama.cpp serve them
 * (research/wire-formats.md §2–5, §9–10, §13).
 *
 * <ul>
 *   <li>Terminator: {@code data: [DONE]}.
 *   <li>Token-bearing choice: non-empty {@code delta.content}, {@code delta.reasoning_content},
 *       {@code delta.reasoning}, {@code delta.refusal}, a {@code delta.tool_calls} (or legacy
 *       {@code delta.function_call}) entry with a non-empty {@code function.name} or {@code
 *       function.arguments}, or a non-empty {@code text} (completions). Everything but reasoning is
 *       visible output. Role-only, {@code content:""}/{@code null}, finish-only and usage-only
 *       chunks carry no token.
 *   <li>Usage: {@code usage.prompt_tokens}, {@code completion_tokens}, {@code total_tokens}, {@code
 *       prompt_tokens_details.cached_tokens}, {@code completion_tokens_details .reasoning_tokens}
 *       or SGLang's {@code usage.reasoning_tokens}.
 *   <li>llama.cpp: {@code timings.predicted_n} is a running output count (N when usage is
 *       missing, tokens per chunk with {@code timings_per_token}); role-only chunks carrying {@code
 *       prompt_progress} during prefill carry no token.
 *   <li>Error after the 200: a top-level {@code error} key of any non-null value, a top-level
 *       {@code "object":"error"} (older vLLM), an SSE {@code event: error}, or {@code
 *       finish_reason} {@code error} / {@code abort}.
 * </ul>
 *
 * <p>JSON is read with Jackson's streaming parser: any key order, any whitespace, {@code null}
 * treated as absent, unknown fields skipped without being decoded. Events of the common shape are
 * first offered to {@link ChatChunkScanner}, which reads them several times faster and hands
 * anything it is not sure of back to Jackson; the two paths give the same facts.
 */
final class OpenAiDialect implements Dialect {
  private static final byte[] DONE = {'[', 'D', 'O', 'N', 'E', ']'};
  private static final byte[] ERROR_TYPE = {'e', 'r', 'r', 'o', 'r'};
  private static final byte TOKEN_AND_VISIBLE = EventFacts.TOKEN | EventFacts.VISIBLE;

  private final ChatChunkScanner chunks; // null: Jackson only
  private final ReusableJsonParser events = new ReusableJsonParser();

  OpenAiDialect() {
    this(new ChatChunkScanner());
  }

  private OpenAiDialect(ChatChunkScanner chunks) {
    this.chunks = chunks;
  }

  /** Without the fast path: the reference the scanner is tested and benchmarked against. */
  static OpenAiDialect jacksonOnly() {
    return new OpenAiDialect(null);
  }

  @Override
  public void readEvent(
      byte[] type, int typeLength, byte[] data, int dataLength, EventFacts facts) {
    if (Bytes.equalsTrimmed(type, 0, typeLength, ERROR_TYPE)) {
      facts.error = true;
    }
    if (Bytes.isBlank(data, 0, dataLength)) {
      facts.parsed = true; // an empty data event carries nothing, but is not a parse failure
      return;
    }
    if (Bytes.equalsTrimmed(data, 0, dataLength, DONE)) {
      facts.terminator = true;
      facts.parsed = true;
      return;
    }
    if (chunks != null && chunks.scan(data, dataLength, facts)) {
      return; // the common chunk shape, read without Jackson
    }
    try {
      JsonParser parser = events.open(data, 0, dataLength);
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        events.abandon();
        return;
      }
      readChunk(parser, facts);
      facts.parsed = events.finishDocument();
    } catch (IOException | RuntimeException e) {
      events.abandon();
      facts.parsed = false;
    }
  }

  @Override
  public void readBody(byte[] body, int length, EventFacts facts) {
    try (JsonParser parser = ReusableJsonParser.FACTORY.createParser(body, 0, length)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return;
      }
      // A non-streaming response has the same top level (usage, error); its choices carry
      // "message" instead of "delta", which readChoice skips.
      readChunk(parser, facts);
      facts.parsed = parser.nextToken() == null;
    } catch (IOException | RuntimeException e) {
      facts.parsed = false;
    }
  }

  @Override
  public boolean countsTokens() {
    return true;
  }

  @Override
  public boolean expectsTerminator() {
    return true;
  }

  @Override
  public void release() {
    events.release();
  }

  /** Reads the top-level object; the parser is on its START_OBJECT and ends on its END_OBJECT. */
  private static void readChunk(JsonParser parser, EventFacts facts) throws IOException {
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "choices":
          if (value == JsonToken.START_ARRAY) {
            readChoices(parser, facts);
          } else {
            parser.skipChildren();
          }
          break;
        case "usage":
          if (value == JsonToken.START_OBJECT) {
            facts.usagePresent = true;
            readUsage(parser, facts);
          } else {
            parser.skipChildren();
          }
          break;
        case "error":
          if (value != JsonToken.VALUE_NULL) {
            facts.error =
                true; // {"error":{...}} (OpenAI, vLLM, SGLang, llama.cpp) or a string (TGI)
          }
          parser.skipChildren();
          break;
        case "timings":
          // llama.cpp: on the last chunk, or on every chunk with timings_per_token; predicted_n is
          // the running count of generated tokens.
          facts.cumulativeOutputTokens = JsonReads.nestedCount(parser, value, "predicted_n");
          break;
        case "object":
          if (value == JsonToken.VALUE_STRING && JsonReads.textEquals(parser, "error")) {
            facts.error = true;
          }
          parser.skipChildren();
          break;
        default:
          parser.skipChildren();
      }
    }
  }

  private static void readChoices(JsonParser parser, EventFacts facts) throws IOException {
    JsonToken element;
    while ((element = parser.nextToken()) != JsonToken.END_ARRAY) {
      int position = facts.choiceEntries++;
      if (element == JsonToken.START_OBJECT) {
        readChoice(parser, facts, position);
      } else {
        parser.skipChildren();
      }
    }
  }

  private static void readChoice(JsonParser parser, EventFacts facts, int position)
      throws IOException {
    int index = position; // "index" is always sent; the position is only a fallback
    byte flags = 0;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "index":
          if (value == JsonToken.VALUE_NUMBER_INT) {
            index = parser.getIntValue();
          } else {
            parser.skipChildren();
          }
          break;
        case "delta":
          if (value == JsonToken.START_OBJECT) {
            flags |= readDelta(parser);
          } else {
            parser.skipChildren();
          }
          break;
        case "text":
          if (JsonReads.nonEmptyString(parser, value)) {
            flags |= TOKEN_AND_VISIBLE;
          }
          break;
        case "finish_reason":
          if (value == JsonToken.VALUE_STRING) {
            // Once per choice per stream, so the String is no steady-state allocation.
            String reason = parser.getText();
            facts.finishReason = FinishReason.of(reason);
            if (reason.equals("error") || reason.equals("abort")) {
              facts.error = true;
            }
          }
          parser.skipChildren();
          break;
        default:
          parser.skipChildren();
      }
    }
    facts.addChoice(index, flags);
  }

  private static byte readDelta(JsonParser parser) throws IOException {
    byte flags = 0;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "content":
        case "refusal":
          if (JsonReads.nonEmptyString(parser, value)) {
            flags |= TOKEN_AND_VISIBLE;
          }
          break;
        case "reasoning_content":
        case "reasoning":
          // vLLM renamed reasoning_content to reasoning (PR #27752); SGLang and llama.cpp keep it.
          if (JsonReads.nonEmptyString(parser, value)) {
            flags |= EventFacts.TOKEN;
          }
          break;
        case "tool_calls":
          if (value == JsonToken.START_ARRAY) {
            while (parser.nextToken() != JsonToken.END_ARRAY) {
              flags |= readToolCall(parser);
            }
          } else {
            flags |= readToolCall(parser);
          }
          break;
        case "function_call":
          flags |= readFunction(parser);
          break;
        default:
          parser.skipChildren();
      }
    }
    return flags;
  }

  /** One {@code tool_calls} entry: {@code {index, id, type, function:{name, arguments}}}. */
  private static byte readToolCall(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return 0;
    }
    byte flags = 0;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      parser.nextToken();
      if (name.equals("function")) {
        flags |= readFunction(parser);
      } else {
        parser.skipChildren();
      }
    }
    return flags;
  }

  /** {@code {name, arguments}}: the header delta has the name, later ones argument pieces. */
  private static byte readFunction(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      parser.skipChildren();
      return 0;
    }
    byte flags = 0;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      if ((name.equals("name") || name.equals("arguments"))
          && JsonReads.nonEmptyString(parser, value)) {
        flags = TOKEN_AND_VISIBLE;
      } else {
        parser.skipChildren();
      }
    }
    return flags;
  }

  private static void readUsage(JsonParser parser, EventFacts facts) throws IOException {
    String name;
    while ((name = parser.nextFieldName()) != null) {
      JsonToken value = parser.nextToken();
      switch (name) {
        case "prompt_tokens":
          facts.promptTokens = JsonReads.count(parser, value);
          break;
        case "completion_tokens":
          facts.completionTokens = JsonReads.count(parser, value);
          break;
        case "total_tokens":
          facts.totalTokens = JsonReads.count(parser, value);
          break;
        case "reasoning_tokens": // SGLang puts it directly in usage
          facts.reasoningTokens = JsonReads.count(parser, value);
          break;
        case "prompt_tokens_details":
          long cached = JsonReads.nestedCount(parser, value, "cached_tokens");
          if (cached != EventFacts.ABSENT) {
            facts.cachedTokens = cached;
          }
          break;
        case "completion_tokens_details":
          long reasoning = JsonReads.nestedCount(parser, value, "reasoning_tokens");
          if (reasoning != EventFacts.ABSENT) {
            facts.reasoningTokens = reasoning;
          }
          break;
        default:
          parser.skipChildren();
      }
    }
  }
}

package dev.tokentap.meter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.Fixtures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ChatChunkScanner} is exact: {@link OpenAiDialect} with it reports the same facts as the
 * Jackson-only dialect for every event of every OpenAI-dialect fixture, for hand-picked edge cases,
 * and for every single-byte mutation, deletion and truncation of each distinct shape of fixture event, which covers
 * malformed JSON the scanner must hand back instead of misreading.
 */
class ChatChunkScannerTest {
  private static final byte[] MUTATIONS = {
    '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', '0', '1', '-', '.', 'e', 'n', 'u', 'x', 0x01,
    (byte) 0xC3, (byte) 0xFF
  };

  private final OpenAiDialect withScanner = new OpenAiDialect();
  private final OpenAiDialect jacksonOnly = OpenAiDialect.jacksonOnly();

  static Stream<String> openAiFixtures() {
    return Stream.of(
        "openai-chat-usage.sse",
        "openai-chat-logprobs.sse",
        "openai-chat-multi-choice.sse",
        "openai-chat-tool-calls.sse",
        "openai-chat-error-midstream.sse",
        "openai-completions.sse",
        "vllm-chat-continuous-usage.sse",
        "vllm-reasoning.sse",
        "vllm-error-midstream.sse",
        "sglang-reasoning.sse",
        "llamacpp-chat.sse",
        "tgi-chat-usage.sse",
        "sse-edge-cases.sse");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("openAiFixtures")
  void everyFixtureEventGivesJacksonsFacts(String fixture) {
    for (byte[] event : events(fixture)) {
      assertSameFacts(event);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("openAiFixtures")
  void everyMutationDeletionAndTruncationGivesJacksonsFacts(String fixture) {
    for (byte[] event : distinctShapes(events(fixture))) {
      for (int i = 0; i < event.length; i++) {
        assertSameFacts(Arrays.copyOf(event, i));
        byte[] deleted = new byte[event.length - 1];
        System.arraycopy(event, 0, deleted, 0, i);
        System.arraycopy(event, i + 1, deleted, i, event.length - i - 1);
        assertSameFacts(deleted);
        for (byte b : MUTATIONS) {
          byte[] mutated = event.clone();
          mutated[i] = b;
          assertSameFacts(mutated);
        }
      }
    }
  }

  @Test
  void readsTheCommonChunksItself() {
    // Every content, role, finish and usage chunk of these takes the fast path; only [DONE] is
    // handled before it.
    for (String fixture :
        List.of("openai-chat-usage.sse", "vllm-chat-continuous-usage.sse", "sglang-reasoning.sse",
            "openai-completions.sse")) {
      for (byte[] event : events(fixture)) {
        if (!new String(event, UTF_8).equals("[DONE]")) {
          assertThat(new ChatChunkScanner().scan(event, event.length, new EventFacts()))
              .as("%s: %s", fixture, new String(event, UTF_8))
              .isTrue();
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{}",
        " \t\r\n{ } \n",
        "{\"choices\":[]}",
        "{\"choices\":null,\"usage\":null,\"error\":null}",
        "{\"choices\":[null,1,\"x\",[],{}]}",
        "{\"choices\":[{\"index\":2,\"delta\":{\"content\":\"a\"}},{\"index\":-1,\"delta\":{\"reasoning\":\"b\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],\"choices\":[{\"delta\":{\"content\":\"\"}}]}",
        "{\"choices\":[{\"index\":1.0,\"delta\":{\"content\":\"a\"}}]}",
        "{\"choices\":[{\"index\":1e2,\"delta\":{\"content\":\"a\"}}]}",
        "{\"choices\":[{\"index\":01,\"delta\":{\"content\":\"a\"}}]}",
        "{\"choices\":[{\"index\":2147483648,\"delta\":{\"content\":\"a\"}}]}",
        "{\"choices\":[{\"index\":123456789,\"delta\":{\"content\":\"a\"}}]}",
        "{\"choices\":[{\"index\":\"0\",\"delta\":{\"content\":\"a\"}}]}",
        "{\"choices\":[{\"index\":-0,\"delta\":{\"content\":\"a\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\u00\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\x\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\ud83d\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"é\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\u0001\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"con\\u0074ent\":\"a\"}}]}",
        "{\"cho\\u0069ces\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}x",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}{}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}},]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]",
        "[{\"choices\":[]}]",
        "\"x\"",
        "{\"a\":tru,\"choices\":[]}",
        "{\"a\":truex,\"choices\":[]}",
        "{\"a\":nul}",
        "{\"a\":-,\"b\":1}",
        "{\"a\":1.,\"b\":1}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":1e+,\"b\":1}",
        "{\"a\":-1.5E-7,\"b\":[true,false,null,{\"c\":{}}]}",
        "{\"a\":NaN}",
        "{\"a\":1 2}",
        "{'a':1}",
        "{\"a\" 1}",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"object\":\"error\",\"message\":\"x\"}",
        "{\"object\":\"err\\u006fr\"}",
        "{\"object\":\"chat.completion.chunk\"}",
        "{\"object\":null}",
        "{\"error\":\"x\"}",
        "{\"error\":{}}",
        "{\"error\":false}",
        "{\"choices\":[{\"finish_reason\":\"abort\"}]}",
        "{\"choices\":[{\"finish_reason\":\"error\"}]}",
        "{\"choices\":[{\"finish_reason\":\"errors\"}]}",
        "{\"choices\":[{\"finish_reason\":\"\\u0065rror\"}]}",
        "{\"choices\":[{\"text\":\"x\",\"index\":3}]}",
        "{\"choices\":[{\"text\":null,\"index\":3}]}",
        "{\"choices\":[{\"text\":5,\"delta\":5}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":null,\"function_call\":null,\"content\":\"x\"}}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"f\"}}]}}]}",
        "{\"choices\":[{\"delta\":{\"tool_calls\":\"x\",\"function_call\":3}}]}",
        "{\"choices\":[{\"delta\":{\"content\":[\"x\"],\"refusal\":{}}}]}",
        "{\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}",
        "{\"usage\":{\"prompt_tokens\":-5,\"completion_tokens\":null,\"total_tokens\":\"12\"}}",
        "{\"usage\":{\"prompt_tokens\":5.9,\"completion_tokens\":7}}",
        "{\"usage\":{\"prompt_tokens\":1234567890123456789012}}",
        "{\"usage\":{\"prompt_tokens\":999999999999999999}}",
        "{\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":3,\"cached_tokens\":null}}}",
        "{\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":3},\"prompt_tokens_details\":null}}",
        "{\"usage\":{\"completion_tokens_details\":{\"reasoning_tokens\":4},\"reasoning_tokens\":null}}",
        "{\"usage\":{\"reasoning_tokens\":4,\"completion_tokens_details\":{\"audio_tokens\":1}}}",
        "{\"usage\":{},\"usage\":null,\"choices\":[]}",
        "{\"usage\":[1]}",
        "{\"timings\":{\"predicted_n\":5}}",
        "{\"timings\":null}",
      })
  void edgeCasesGiveJacksonsFacts(String json) {
    assertSameFacts(json.getBytes(UTF_8));
  }

  /**
   * Consecutive chunks sharing the bytes before {@code "choices"}: the scanner starts the second at
   * that key, which is right only when the shared members gave no fact.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"id\":\"a\",\"choices\":[{\"delta\":{\"content\":\"x\"}}]}",
        "{\"id\":\"a\",\"error\":{\"m\":1},\"choices\":[{\"delta\":{\"content\":\"x\"}}]}",
        "{\"id\":\"a\",\"object\":\"error\",\"choices\":[{\"delta\":{\"content\":\"x\"}}]}",
        "{\"id\":\"a\",\"usage\":{\"prompt_tokens\":3},\"choices\":[{\"delta\":{\"content\":\"x\"}}]}",
        "{\"id\":\"a\",\"choices\":[],\"choices\":[{\"delta\":{\"content\":\"x\"}}]}",
        "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"id\":\"a\"}",
      })
  void chunksSharingAPrefixGiveJacksonsFacts(String first) {
    int choices = first.lastIndexOf("\"choices\"");
    String prefix = first.substring(0, choices);
    for (String rest :
        List.of(
            "\"choices\":[{\"delta\":{\"content\":\"y\"}}]}",
            "\"choices\":[{\"delta\":{\"content\":\"\"}}]}",
            "\"choices\":[{\"delta\":{\"content\":\"y\"}}],\"usage\":{\"total_tokens\":4}}",
            "\"choices\":[],\"error\":\"x\"}",
            "\"choices\":[{\"delta\":{\"content\":\"y\"}}]",
            "\"choices\":[{\"delta\":{\"content\":\"y\"}}]}}",
            "\"choices\":[{\"delta\":{\"tool_calls\":[]}}]}",
            "\"usage\":null}",
            "\"choices\":[{\"delta\":{\"content\":\"y\"}}]} ")) {
      assertSameFacts(first.getBytes(UTF_8));
      assertSameFacts((prefix + rest).getBytes(UTF_8));
      assertSameFacts((prefix + rest).getBytes(UTF_8));
    }
  }

  @Test
  void aTypedErrorEventKeepsItsFlag() {
    byte[] data = "{\"choices\":[]}".getBytes(UTF_8);
    byte[] type = "error".getBytes(UTF_8);
    EventFacts facts = new EventFacts();
    withScanner.readEvent(type, type.length, data, data.length, facts);
    assertThat(facts.error).isTrue();
    assertThat(facts.parsed).isTrue();
  }

  /**
   * Reads {@code data} from a scratch array with stale bytes after it, as the meter passes it, with
   * both dialects, and compares every fact.
   */
  private void assertSameFacts(byte[] data) {
    byte[] scratch = new byte[data.length + 16];
    Arrays.fill(scratch, (byte) '"');
    scratch[scratch.length - 1] = '}';
    System.arraycopy(data, 0, scratch, 0, data.length);
    EventFacts fast = new EventFacts();
    withScanner.readEvent(new byte[0], 0, scratch, data.length, fast);
    EventFacts reference = new EventFacts();
    jacksonOnly.readEvent(new byte[0], 0, data, data.length, reference);
    assertThat(describe(fast)).as(new String(data, UTF_8)).isEqualTo(describe(reference));
  }

  private static String describe(EventFacts f) {
    StringBuilder s =
        new StringBuilder()
            .append("parsed=").append(f.parsed)
            .append(" terminator=").append(f.terminator)
            .append(" error=").append(f.error)
            .append(" finish=").append(f.finishReason)
            .append(" entries=").append(f.choiceEntries)
            .append(" choices=");
    for (int i = 0; i < f.choiceCount; i++) {
      s.append(f.choiceIndex[i]).append(':').append(f.choiceFlags[i]).append(' ');
    }
    return s.append(" usage=").append(f.usagePresent)
        .append(' ').append(f.promptTokens)
        .append(' ').append(f.completionTokens)
        .append(' ').append(f.totalTokens)
        .append(' ').append(f.cachedTokens)
        .append(' ').append(f.reasoningTokens)
        .append(" event=").append(f.eventTokens)
        .append(" cumulative=").append(f.cumulativeOutputTokens)
        .toString();
  }

  /** The data of each event of an SSE fixture (data lines joined by \n). */
  /**
   * The events of distinct shape: two events that differ only in the text of string values
   * without escapes and in digits (consecutive content chunks, mostly) take the same paths through the scanner
   * at every offset, so the mutation test runs one of them (a fixture's stream repeats its shapes
   * dozens of times; all of them cost over a minute of every build).
   */
  static List<byte[]> distinctShapes(List<byte[]> events) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    List<byte[]> distinct = new ArrayList<>();
    for (byte[] event : events) {
      if (seen.add(new String(event, UTF_8).replaceAll(":\"[^\"\\\\]*\"", ":\"a\"").replaceAll("[0-9]+", "0"))) {
        distinct.add(event);
      }
    }
    return distinct;
  }

  static List<byte[]> events(String fixture) {
    String text = new String(Fixtures.stream(fixture), UTF_8).replace("\r\n", "\n");
    List<byte[]> events = new ArrayList<>();
    for (String block : text.split("\n\n")) {
      StringBuilder data = null;
      for (String line : block.split("\n")) {
        if (line.startsWith("data:")) {
          String value = line.substring(5);
          value = value.startsWith(" ") ? value.substring(1) : value;
          data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
        }
      }
      if (data != null) {
        events.add(data.toString().getBytes(UTF_8));
      }
    }
    return events;
  }
}

package dev.tokentap.proxy.relay;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Api;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link RequestBodyScanner} never answers differently from Jackson: for the bodies real clients
 * send, and for every single-byte mutation, deletion and truncation of them, the scanner either
 * defers (null) or gives exactly the inspection the Jackson path gives (model, stream, asked for
 * usage, and the injected body byte for byte). The real bodies must not defer: they are the case
 * the scanner exists for.
 */
class RequestBodyScannerTest {
  private static final byte[] MUTATIONS = {
    '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', '0', '1', '-', '+', '.', 'e', 'E', 'n', 't', 'u', 'x', 0x01, 0x00,
    (byte) 0xC3, (byte) 0xA9, (byte) 0xE2, (byte) 0xFF
  };

  /** Bodies as the OpenAI SDKs, vLLM's bench, LangChain and curl users send them. */
  static Stream<String> realBodies() {
    return Stream.of(
        "{\"model\":\"m\",\"stream\":true,\"max_tokens\":64,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about proxies.\"}]}",
        "{\"messages\":[{\"role\":\"system\",\"content\":\"You are helpful.\\nBe brief.\"},{\"role\":\"user\",\"content\":\"Say \\\"hi\\\" \\u00e9\"}],"
            + "\"model\":\"meta-llama/Llama-3.1-8B-Instruct\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0.7,\"top_p\":1e-1}",
        "{\n  \"model\": \"gpt-4o-mini\",\n  \"stream\": true,\n  \"stream_options\": {\"include_usage\": false, \"continuous_usage_stats\": true},\n"
            + "  \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Qu'est-ce que c'est ? 日本語 🙂\"},"
            + " {\"type\": \"image_url\", \"image_url\": {\"url\": \"data:image/png;base64,iVBORw0KGgo=\"}}]}]\n}",
        "{\"model\":\"m\",\"prompt\":[\"a\",[1,2,3],-0.5E+3],\"stream\":true,\"stream_options\":{},\"logprobs\":null,\"n\":2}",
        "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":null},\"tools\":[{\"type\":\"function\",\"function\":"
            + "{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}],"
            + "\"tool_choice\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]}",
        "{\"model\":\"m\",\"stream\":false,\"messages\":[]}",
        "{ }",
        "{\"stream\":true,\"model\":\"m\",\"stream_options\":{\"include_usage\":0},\"messages\":[{\"role\":\"user\",\"content\":\"\"}]}");
  }

  @ParameterizedTest
  @MethodSource("realBodies")
  void realBodiesAreReadByTheScannerExactlyAsJacksonReadsThem(String body) {
    byte[] bytes = body.getBytes(UTF_8);
    assertThat(RequestBodyScanner.scan(bytes)).as("scanner defers on a real body").isNotNull();
    assertSameInspection(bytes);
  }

  @ParameterizedTest
  @MethodSource("realBodies")
  void everyMutationDeletionAndTruncationIsReadAsJacksonReadsIt(String body) {
    byte[] bytes = body.getBytes(UTF_8);
    int read = 0;
    int variants = 0;
    for (int i = 0; i < bytes.length; i++) {
      assertSameInspection(Arrays.copyOf(bytes, i));
      byte[] deleted = new byte[bytes.length - 1];
      System.arraycopy(bytes, 0, deleted, 0, i);
      System.arraycopy(bytes, i + 1, deleted, i, bytes.length - i - 1);
      assertSameInspection(deleted);
      for (byte m : MUTATIONS) {
        byte[] mutated = bytes.clone();
        mutated[i] = m;
        read += assertSameInspection(mutated) ? 1 : 0;
        variants++;
      }
    }
    // Most single-byte changes inside strings leave valid JSON: the comparison above must have
    // been made, not deferred away ("{ }" has no strings to change).
    assertThat(bytes.length < 10 ? variants : read).as("mutations the scanner read itself, of %d", variants).isGreaterThan(variants / 5);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "{\"model\":\"m\",\"model\":\"n\",\"stream\":true,\"stream\":false}",
    "{\"stream\":true,\"stream_options\":{\"include_usage\":false,\"include_usage\":1}}",
    "{\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}}",
    "{\"stream\":true,\"stream_options\":{\"include_usage\":{\"a\":1}}}",
    "{\"stream\":true,\"stream_options\":[1]}",
    "{\"stream\":true,\"stream_options\":null}",
    "{\"stream\":true,\"stream_options\":{\"include_usage\":false},\"stream_options\":7}",
    "{\"stream\":true,\"model\":7}",
    "{\"stream\":true}trailing garbage",
    "\uFEFF{\"stream\":true}",
    "{\"mod\\u0065l\":\"m\",\"stream\":true}",
    "{\"model\":\"\\u006d\",\"stream\":true}",
    "{\"stream\":true,\"x\":01}",
    "{\"stream\":true,\"x\":1.}",
    "{\"stream\":true,\"x\":tru}",
    "{\"stream\":true,\"x\":[1,]}",
    "{\"stream\":true,}",
  })
  void edgeCasesAreReadAsJacksonReadsThem(String body) {
    assertSameInspection(body.getBytes(UTF_8));
  }

  @Test
  void nestingPastTheScannersDepthIsLeftToJackson() {
    String deep = "[".repeat(StrictJsonReader.MAX_DEPTH) + "]".repeat(StrictJsonReader.MAX_DEPTH);
    byte[] body = ("{\"stream\":true,\"x\":" + deep + "}").getBytes(UTF_8);
    assertThat(RequestBodyScanner.scan(body)).isNull();
    assertSameInspection(body);
    String shallower = "[".repeat(StrictJsonReader.MAX_DEPTH - 1) + "]".repeat(StrictJsonReader.MAX_DEPTH - 1);
    assertThat(RequestBodyScanner.scan(("{\"x\":" + shallower + "}").getBytes(UTF_8))).isNotNull();
  }

  @Test
  void usageIsInjectedByTheSmallestEdit() {
    for (List<String> c : List.of(
        List.of("{\"model\":\"m\",\"stream\":true}", "{\"stream_options\":{\"include_usage\":true},\"model\":\"m\",\"stream\":true}"),
        List.of("{\"stream\":true,\"stream_options\":{}}", "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}"),
        List.of("{\"stream\":true,\"stream_options\":{ \"x\":1}}", "{\"stream\":true,\"stream_options\":{\"include_usage\":true, \"x\":1}}"),
        List.of("{\"stream\":true,\"stream_options\":{\"include_usage\": false }}", "{\"stream\":true,\"stream_options\":{\"include_usage\": true }}"),
        List.of("{\"stream\":true,\"stream_options\":{\"include_usage\":0}}", "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}"))) {
      byte[] body = c.get(0).getBytes(UTF_8);
      assertThat(RequestBodyScanner.scan(body)).as(c.get(0)).isNotNull();
      assertThat(new String(RequestBodyInspector.inspect(body, Api.OPENAI, true).injectedBody(), UTF_8)).isEqualTo(c.get(1));
    }
    // A string, object or array is not spliced: the server judges it.
    byte[] string = "{\"stream\":true,\"stream_options\":{\"include_usage\":\"yes\"}}".getBytes(UTF_8);
    assertThat(RequestBodyInspector.inspect(string, Api.OPENAI, true).injectedBody()).isNull();
  }

  /** Whether the scanner read the body (rather than deferring). */
  private static boolean assertSameInspection(byte[] body) {
    boolean read = false;
    for (boolean inject : new boolean[] {true, false}) {
      RequestBodyInspector.Inspection jackson = RequestBodyInspector.withJackson(body, Api.OPENAI, inject, 0);
      BodyFields fields = RequestBodyScanner.scan(body);
      if (fields == null) {
        continue;
      }
      RequestBodyInspector.Inspection scanned = fields.inspection(body, Api.OPENAI, inject, null, false);
      String what = new String(body, UTF_8);
      assertThat(jackson).as("Jackson refuses what the scanner read: %s", what).isNotSameAs(RequestBodyInspector.Inspection.UNREADABLE);
      assertThat(scanned.model()).as("model of %s", what).isEqualTo(jackson.model());
      assertThat(scanned.stream()).as("stream of %s", what).isEqualTo(jackson.stream());
      assertThat(scanned.clientAskedForUsage()).as("usage asked in %s", what).isEqualTo(jackson.clientAskedForUsage());
      assertThat(scanned.injectedBody()).as("injected into %s", what).isEqualTo(jackson.injectedBody());
      read = true;
    }
    return read;
  }
}

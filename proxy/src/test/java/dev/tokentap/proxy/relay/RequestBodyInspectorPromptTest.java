package dev.tokentap.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Api;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The prompt head trace capture hashes into a prefix group: which text, in which order, how cut. */
class RequestBodyInspectorPromptTest {

  private static RequestBodyInspector.Inspection inspect(String json, int chars) {
    return RequestBodyInspector.inspect(json.getBytes(StandardCharsets.UTF_8), Api.OPENAI, true, chars);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      chat strings              | {"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]} | Be brief.\\nHi
      chat content parts        | {"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"u"}},{"type":"text","text":"b"}]}]} | a\\nb
      completions prompt        | {"prompt":"Once upon","max_tokens":3} | Once upon
      completions prompt list   | {"prompt":["first","second"]} | first\\nsecond
      anthropic system after    | {"messages":[{"role":"user","content":"Q"}],"system":"S"} | S\\nQ
      responses instructions    | {"input":[{"role":"user","content":[{"type":"input_text","text":"X"}]}],"instructions":"I"} | I\\nX
      token ids only            | {"prompt":[1,2,3]} | ''
      """)
  void keepsThePromptTextInOrder(String name, String body, String expected) {
    RequestBodyInspector.Inspection i = inspect(body, 100);
    assertThat(i.promptHead()).isEqualTo(expected.replace("\\n", "\n"));
    assertThat(i.wholePrompt()).isTrue();
  }

  @Test
  void cutsAtTheLimitAndSaysSo() {
    RequestBodyInspector.Inspection i = inspect("{\"messages\":[{\"role\":\"system\",\"content\":\"abcdefgh\"},{\"role\":\"user\",\"content\":\"zzz\"}]}", 5);
    assertThat(i.promptHead()).isEqualTo("abcde");
    assertThat(i.wholePrompt()).isFalse();
    // Exactly the limit is still the whole prompt.
    RequestBodyInspector.Inspection exact = inspect("{\"prompt\":\"abcde\"}", 5);
    assertThat(exact.promptHead()).isEqualTo("abcde");
    assertThat(exact.wholePrompt()).isTrue();
  }

  @Test
  void offByDefaultAndTheRestOfTheInspectionIsUnchanged() {
    String body = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
    RequestBodyInspector.Inspection off = RequestBodyInspector.inspect(body.getBytes(StandardCharsets.UTF_8), Api.OPENAI, true);
    RequestBodyInspector.Inspection on = inspect(body, 64);
    assertThat(off.promptHead()).isNull();
    assertThat(on.promptHead()).isEqualTo("hello");
    assertThat(on.model()).isEqualTo(off.model()).isEqualTo("m");
    assertThat(on.stream()).isTrue();
    assertThat(new String(on.injectedBody(), StandardCharsets.UTF_8)).isEqualTo(new String(off.injectedBody(), StandardCharsets.UTF_8));
  }
}

package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The {@code model} label comes from clients, so it is bounded by tokentap.metrics.max-models: later
 * names fold into {@code other}, each such request counted in tokentap_model_label_overflow_total;
 * a request naming no model is {@code unknown} and is not an overflow.
 */
class ModelLabelCardinalityTest {
  static final byte[] SSE = Fixtures.stream("openai-chat-usage.sse");

  static String chat(String model) {
    String field = model == null ? "" : "\"model\":\"" + model + "\",";
    return "{" + field + "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  }

  @Test
  void modelsBeyondTheCapFoldIntoOtherAndAreCounted() throws Exception {
    try (ScriptedUpstream upstream = new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[0], 0));
        ProxyHarness proxy = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.metrics.max-models", 2))) {
      assertThat(proxy.metrics()).as("published before the first overflow").contains("tokentap_model_label_overflow_total 0.0");
      String longName = "m".repeat(300);
      List<String> labels = new ArrayList<>();
      for (String model : new String[] {"alpha", longName, "gamma", "delta", "alpha", null, longName}) {
        assertThat(proxy.post("/v1/chat/completions", chat(model)).statusCode()).isEqualTo(200);
        labels.add(proxy.next().model());
      }

      String kept = "m".repeat(128);
      assertThat(labels).containsExactly("alpha", kept, "other", "other", "alpha", "unknown", kept);
      String metrics = proxy.metrics();
      assertThat(metrics).contains("tokentap_model_label_overflow_total 2.0");
      TreeSet<String> seen = new TreeSet<>();
      Matcher m = Pattern.compile("tokentap_requests_total\\{[^}]*model=\"([^\"]*)\"").matcher(metrics);
      while (m.find()) {
        seen.add(m.group(1));
      }
      assertThat(seen).containsExactlyInAnyOrder("alpha", kept, "other", "unknown");
    }
  }
}

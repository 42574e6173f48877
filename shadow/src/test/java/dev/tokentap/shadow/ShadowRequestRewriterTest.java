package dev.tokentap.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.tokentap.meter.Api;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.config.ShadowTarget;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.proxy.tap.TappedRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** One rewrite per row: what the extra copies' bodies look like, per cache-busting mode and API. */
class ShadowRequestRewriterTest {

  static ShadowTarget target(String extra) {
    return SettingsLoader.load(
            ConfigFactory.parseString("tokentap.shadow.targets = [{ name = s, upstream = \"http://s:9000/base\", " + extra + " }]")
                .withFallback(ConfigFactory.defaultReference())
                .resolve())
        .shadow()
        .targets()
        .get(0);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "cache-busting = none       | {\"model\":\"m\",\"prompt\":\"hi\"}                                              | {\"model\":\"m\",\"prompt\":\"hi\"}",
    "cache-busting = cache-salt | {\"model\":\"m\",\"prompt\":\"hi\"}                                              | \"cache_salt\":\"",
    "cache-busting = nonce      | {\"model\":\"m\",\"prompt\":\"hi\"}                                              | \"prompt\":\"[shadow ",
    "cache-busting = nonce      | {\"model\":\"m\",\"prompt\":[\"hi\",\"there\"]}                                  | \"prompt\":[\"[shadow ",
    "cache-busting = nonce      | {\"model\":\"m\",\"input\":\"hi\"}                                               | \"input\":\"[shadow ",
    "cache-busting = nonce      | {\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]} | \"text\":\"[shadow ",
    "model = m2                 | {\"model\":\"m\",\"prompt\":\"hi\"}                                              | {\"model\":\"m2\",\"prompt\":\"hi\"}",
    "cache-busting = nonce      | not json                                                                         | not json",
  })
  void theSecondCopyIsRewritten(String config, String body, String expected) {
    ShadowRequestRewriter rewriter = new ShadowRequestRewriter(target(config));
    TappedRequest r =
        new TappedRequest("POST", "/v1/completions", Route.COMPLETIONS, Api.OPENAI, "m",
            List.of(Map.entry("Authorization", "Bearer client"), Map.entry("X-Trace", "t1"), Map.entry("Content-Length", "99")),
            body.trim().getBytes(StandardCharsets.UTF_8), false, body.length(), System.nanoTime());
    FullHttpRequest first = rewriter.build(r, 1, 2);
    FullHttpRequest second = rewriter.build(r, 2, 2);
    try {
      assertThat(second.content().toString(StandardCharsets.UTF_8)).contains(expected.trim());
      assertThat(first.content().toString(StandardCharsets.UTF_8)).doesNotContain("[shadow ").doesNotContain("cache_salt");
      assertThat(second.uri()).isEqualTo("/base/v1/completions");
      assertThat(second.headers().get("authorization")).isNull();
      assertThat(second.headers().get("x-trace")).isEqualTo("t1");
      assertThat(second.headers().getInt("content-length")).isEqualTo(second.content().readableBytes());
      assertThat(second.headers().get("x-tokentap-shadow")).isEqualTo("2/2");
      assertThat(second.headers().get("host")).isEqualTo("s:9000");
    } finally {
      first.release();
      second.release();
    }
  }
}

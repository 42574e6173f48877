package dev.tokentap.proxy.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.tokentap.meter.Api;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.config.RouteRule;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Path → route label and response format, by the default rules of reference.conf and by custom ones. */
class RouteResolverTest {

  static Settings load(String hocon) {
    return SettingsLoader.load(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  static RouteResolver resolver(String hocon) {
    Settings s = load(hocon);
    return new RouteResolver(s.metrics().excludePaths(), s.metrics().routes());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', nullValues = "null", value = {
    "/v1/chat/completions                       | CHAT        | OPENAI           | null",
    "/v1/chat/completions/                      | CHAT        | OPENAI           | null",
    "/chat/completions                          | CHAT        | OPENAI           | null",
    "/v1/completions                            | COMPLETIONS | OPENAI           | null",
    "/v1/responses                              | RESPONSES   | OPENAI_RESPONSES | null",
    "/v1/messages                               | MESSAGES    | ANTHROPIC        | null",
    "/api/chat                                  | CHAT        | OLLAMA           | null",
    "/api/generate                              | GENERATE    | OLLAMA           | null",
    "/api/embed                                 | EMBEDDINGS  | EMBEDDINGS       | null",
    "/v1/embeddings                             | EMBEDDINGS  | EMBEDDINGS       | null",
    "/generate_stream                           | GENERATE    | TGI              | null",
    "/generate                                  | GENERATE    | TGI              | null",
    "/v2/models/vllm_model/generate_stream      | GENERATE    | TRITON           | vllm_model",
    "/v2/models/llama%2F8b/generate             | GENERATE    | TRITON           | llama/8b",
    "/v2/models/ens/versions/3/generate_stream  | GENERATE    | TRITON           | ens",
    "/v2/models//generate_stream                | OTHER       | UNKNOWN          | null",
    "/v2/models/a/b/generate_stream             | OTHER       | UNKNOWN          | null",
    "/v2/models/a/generate_stream/x             | OTHER       | UNKNOWN          | null",
    "/v1/models                                 | OTHER       | UNKNOWN          | null",
    "/v1/chat/completionsx                      | OTHER       | UNKNOWN          | null",
    "/                                          | OTHER       | UNKNOWN          | null",
  })
  void defaultRulesCoverTheStandardPaths(String path, Route route, Api api, String model) {
    assertThat(resolver("").resolve(path)).isEqualTo(new RouteResolver.Resolution(route, api, model));
  }

  @Test
  void customRulesComeFirstAndTheDefaultsStillApplyAfterThem() {
    RouteResolver r = resolver("""
        tokentap.metrics.routes = [
          { path-prefix = "/gw/anthropic/", route = messages, api = anthropic }
          { path = "/llm/{model}/chat", route = chat, api = openai }
          { path = "/v1/chat/completions", route = chat, api = ollama }
        ] ${tokentap.metrics.routes}
        """);
    assertThat(r.resolve("/gw/anthropic/v1/messages")).isEqualTo(new RouteResolver.Resolution(Route.MESSAGES, Api.ANTHROPIC, null));
    assertThat(r.resolve("/llm/qwen3/chat")).isEqualTo(new RouteResolver.Resolution(Route.CHAT, Api.OPENAI, "qwen3"));
    assertThat(r.resolve("/v1/chat/completions").api()).as("first match wins").isEqualTo(Api.OLLAMA);
    assertThat(r.resolve("/v1/messages").api()).as("defaults after the custom rules").isEqualTo(Api.ANTHROPIC);
    assertThat(r.resolve("/gw/anthropic/").api()).as("a prefix matches the path as sent").isEqualTo(Api.ANTHROPIC);
    assertThat(r.resolve("/gw/anthropic").api()).isEqualTo(Api.UNKNOWN);
  }

  @Test
  void anEmptyRuleListMakesEveryPathOther() {
    assertThat(resolver("tokentap.metrics.routes = []").resolve("/v1/chat/completions")).isEqualTo(RouteResolver.Resolution.OTHER);
  }

  @Test
  void aRuleIsReadIntoARouteRule() {
    assertThat(load("tokentap.metrics.routes = [{ path-prefix = \"/x\", route = generate, api = triton }]").metrics().routes())
        .containsExactly(new RouteRule("/x", true, Route.GENERATE, Api.TRITON));
  }

  @Test
  void excludedPathsAreUnchanged() {
    RouteResolver r = new RouteResolver(List.of("/health"), List.of());
    assertThat(r.excluded("/health/live")).isTrue();
    assertThat(r.excluded("/v1/chat/completions")).isFalse();
  }
}

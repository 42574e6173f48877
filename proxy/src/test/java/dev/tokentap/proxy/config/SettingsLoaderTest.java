package dev.tokentap.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import dev.tokentap.testkit.TestTls;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Config is read once and every bad value is reported with its key, one case per row. */
class SettingsLoaderTest {

  static Settings load(String hocon) {
    return SettingsLoader.load(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  @Test
  void defaultsAreValidAndDocumented() {
    Settings s = load("");
    assertThat(s.proxy().listen()).isEqualTo(new HostAndPort("127.0.0.1", 8080));
    assertThat(s.proxy().upstream().toString()).isEqualTo("http://127.0.0.1:8000");
    assertThat(s.admin().listen().host()).as("admin binds to loopback by default").isEqualTo("127.0.0.1");
    assertThat(s.proxy().usageInjection()).isTrue();
    assertThat(s.proxy().leakDetection()).isEqualTo("disabled");
    assertThat(load("tokentap.proxy.leak-detection = SIMPLE").proxy().leakDetection()).isEqualTo("simple");
    assertThat(s.proxy().allocator()).isEqualTo("adaptive");
    assertThat(load("tokentap.proxy.allocator = Pooled").proxy().allocator()).isEqualTo("pooled");
    assertThat(s.upstream().idleTimeout()).isEqualTo(Duration.ofSeconds(120));
    assertThat(s.proxy().clientLimits()).isEqualTo(
        new Settings.ClientLimits(Duration.ofSeconds(30), Duration.ofSeconds(75), Duration.ofSeconds(60), 10000, 1024));
    assertThat(s.slos()).singleElement().satisfies(r -> assertThat(r.ttft()).isEqualTo(Duration.ofSeconds(2)));
    assertThat(s.upstream().maxConnectionsPerLoop())
        .as("upstream connections never the limit before client connections are (nothing queues inside tokentap by default)")
        .isGreaterThanOrEqualTo(s.proxy().clientLimits().maxConnections());
  }

  @Test
  void overridesBeatTheFileWhichBeatsTheDefaults(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path file = dir.resolve("t.conf");
    java.nio.file.Files.writeString(file, "tokentap.proxy { listen = \"0.0.0.0:9000\", upstream = \"http://vllm:8000/base/\" }\n");
    Settings s = SettingsLoader.load(SettingsLoader.resolve(file.toFile(), Map.of("tokentap.proxy.listen", "127.0.0.1:7000")));
    assertThat(s.proxy().listen().port()).isEqualTo(7000);
    assertThat(s.proxy().upstream().host()).isEqualTo("vllm");
    assertThat(s.proxy().upstream().pathPrefix()).isEqualTo("/base");
  }

  @Test
  void shadowTargetsTakeTheDefaultsForWhatTheyLeaveOut() {
    Settings s =
        SettingsLoader.load(
            ConfigFactory.parseString(
                    "tokentap.shadow.targets = [{ name = staging, upstream = \"http://s:9000\", factor = 2.5, sample-by = \"json:user\","
                        + " authorization-env = STAGING_KEY, set-headers { x-env = staging } }]")
                .withFallback(ConfigFactory.defaultReference())
                .resolve(),
            name -> name.equals("STAGING_KEY") ? "sk-staging" : null);
    assertThat(load("").shadow().targets()).isEmpty();
    ShadowTarget t = s.shadow().targets().get(0);
    assertThat(t.factor()).isEqualTo(2.5);
    assertThat(t.sampleBy()).isEqualTo(new ShadowTarget.SampleKey(false, "user"));
    assertThat(t.authorizationToken()).isEqualTo("sk-staging");
    assertThat(t.removeHeaders()).contains("authorization", "x-api-key", "cookie");
    assertThat(t.setHeaders()).containsEntry("x-env", "staging");
    assertThat(t.cacheBusting()).isEqualTo(ShadowTarget.CacheBusting.NONE);
    assertThat(t.spreadWindow()).isEqualTo(Duration.ofSeconds(10));
    assertThat(t.model()).isNull();
    assertThat(t.baseline()).isFalse();
    assertThat(s.shadow().compare()).isEqualTo(new Settings.Shadow.Compare(0, 256, 1000));
    assertThat(s.shadow().compare().enabled()).isFalse();
  }

  @Test
  void compareAndBaselineAreRead() {
    Settings s = load("tokentap.shadow { compare { sample = 0.25, max-tokens = 64, max-pending = 10, samples { file = \"/tmp/pairs.jsonl\", max-pairs = 5 } },"
        + " targets = [{ name = replica, upstream = \"http://r:1\", baseline = true }] }");
    assertThat(s.shadow().compare()).isEqualTo(new Settings.Shadow.Compare(0.25, 64, 10, java.nio.file.Path.of("/tmp/pairs.jsonl"), 5));
    assertThat(s.shadow().targets().get(0).baseline()).isTrue();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "tokentap.proxy.listen = \"nowhere\"                 | tokentap.proxy.listen: \"nowhere\" (expected: host:port",
    "tokentap.proxy.listen = \"127.0.0.1:99999\"         | tokentap.proxy.listen",
    "tokentap.proxy.upstream = \"ftp://x:1\"             | tokentap.proxy.upstream: \"ftp://x:1\" (expected: a base URL such as http://127.0.0.1:8000, expected an http:// or https:// URL",
    "tokentap.proxy.tls.key-file = \"/no/such/key.pem\"  | tokentap.proxy.tls.key-file: \"/no/such/key.pem\" (expected: a readable PEM file",
    "tokentap.upstream.tls.ca-file = \"/no/such/ca.pem\" | tokentap.upstream.tls.ca-file: \"/no/such/ca.pem\" (expected: a readable PEM file",
    "tokentap.upstream.tls.insecure-skip-verify = perhaps | tokentap.upstream.tls.insecure-skip-verify",
    "tokentap.proxy.upstream = \"not a url\"             | tokentap.proxy.upstream",
    "tokentap.proxy.target-name = \"a b\"                | tokentap.proxy.target-name",
    "tokentap.proxy.io-threads = -1                      | tokentap.proxy.io-threads: -1 (expected: an integer >= 0)",
    "tokentap.proxy.io-threads = many                    | tokentap.proxy.io-threads",
    "tokentap.proxy.usage-injection = maybe              | tokentap.proxy.usage-injection",
    "tokentap.proxy.max-inspected-request-body = 12 lbs  | tokentap.proxy.max-inspected-request-body",
    "tokentap.proxy.max-request-body = 3GiB              | tokentap.proxy.max-request-body: 3GiB (expected: a size between 0 bytes and 2GiB)",
    "tokentap.proxy.write-buffer-high-water-mark = 1KiB  | tokentap.proxy.write-buffer-high-water-mark",
    "tokentap.upstream.connect-timeout = 0s              | tokentap.upstream.connect-timeout: 0s (expected: a duration > 0)",
    "tokentap.proxy.request-head-timeout = 0s           | tokentap.proxy.request-head-timeout: 0s (expected: a duration > 0)",
    "tokentap.proxy.keep-alive-timeout = soon           | tokentap.proxy.keep-alive-timeout: soon (expected: a duration such as 250ms or 30s)",
    "tokentap.proxy.request-body-timeout = -1s          | tokentap.proxy.request-body-timeout: -1s (expected: a duration > 0)",
    "tokentap.proxy.max-connections = 0                 | tokentap.proxy.max-connections: 0 (expected: an integer >= 1)",
    "tokentap.proxy.backlog = lots                      | tokentap.proxy.backlog",
    "tokentap.upstream.idle-timeout = soon               | tokentap.upstream.idle-timeout",
    "tokentap.upstream.max-connections-per-loop = 0      | tokentap.upstream.max-connections-per-loop",
    "tokentap.admin.listen = \"\"                        | tokentap.admin.listen",
    "tokentap.metrics.max-models = 0                     | tokentap.metrics.max-models",
    "tokentap.slos = [{ ttft = fast }]                   | tokentap.slos[0].ttft",
    "tokentap.slos = [{ route = chats, ttft = 1s }]      | tokentap.slos[0].route",
    "tokentap.slos = [{ model = x }]                     | tokentap.slos[0]",
    "tokentap.slos = [{ ttft = 1s, ttfb = 1s }]          | tokentap.slos[0].ttfb",
    "tokentap.access-log.queue-size = 0                  | tokentap.access-log.queue-size",
    "tokentap.metrics.routes = 5                                                     | tokentap.metrics.routes",
    "tokentap.metrics.routes = [{ route = chat, api = openai }]                      | tokentap.metrics.routes[0]: {",
    "tokentap.metrics.routes = [{ path = \"/a\", path-prefix = \"/b\", route = chat, api = openai }] | (expected: exactly one of path, path-prefix)",
    "tokentap.metrics.routes = [{ path = \"a\", route = chat, api = openai }]      | tokentap.metrics.routes[0].path: \"a\" (expected: a path starting with /",
    "tokentap.metrics.routes = [{ path-prefix = \"/a?x\", route = chat, api = openai }] | tokentap.metrics.routes[0].path-prefix",
    "tokentap.metrics.routes = [{ path = \"/{model}/{model}\", route = chat, api = openai }] | tokentap.metrics.routes[0].path: \"/{model}/{model}\" (expected: at most one {model}",
    "tokentap.metrics.routes = [{ path = \"/a\", route = chats, api = openai }]    | tokentap.metrics.routes[0].route: \"chats\" (expected: one of chat, completions",
    "tokentap.metrics.routes = [{ path = \"/a\", route = chat, api = gemini }]     | tokentap.metrics.routes[0].api: \"gemini\" (expected: one of openai, openai-responses",
    "tokentap.metrics.routes = [{ path = \"/a\", api = openai }]                   | tokentap.metrics.routes[0].route: missing",
    "tokentap.metrics.routes = [{ path = \"/a\", route = chat }]                   | tokentap.metrics.routes[0].api: missing",
    "tokentap.metrics.routes = [{ path = \"/a\", route = chat, api = openai, dialect = x }] | tokentap.metrics.routes[0].dialect",
    "tokentap.metrics.routes = [{ path = [1], route = chat, api = openai }]          | tokentap.metrics.routes[0].path",
    "tokentap.shadow.targets = 5                                                     | tokentap.shadow.targets: Wrong value type",
    "tokentap.shadow.targets = [{ upstream = \"http://s:1\" }]                       | tokentap.shadow.targets[0].name: \"\" (expected: a non-empty string)",
    "tokentap.shadow.targets = [{ name = s }]                                        | tokentap.shadow.targets[0].upstream",
    "tokentap.shadow.targets = [{ name = s, upstream = \"ftp://s:1\" }]              | tokentap.shadow.targets[0].upstream: \"ftp://s:1\" (expected: a base URL",
    "tokentap.shadow.targets = [{ name = s, upstream = \"https://s:1\", tls.ca-file = \"/no/such/ca.pem\" }] | tokentap.shadow.targets[0].tls.ca-file: \"/no/such/ca.pem\" (expected: a readable PEM file",
    "tokentap.shadow.targets = [{ name = \"a b\", upstream = \"http://s:1\" }]       | tokentap.shadow.targets[0].name",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", factor = -1 }] | tokentap.shadow.targets[0].factor: -1 (expected: a number >= 0",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", factor = lots }] | tokentap.shadow.targets[0].factor",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", spread-window = -1s }] | tokentap.shadow.targets[0].spread-window: -1s (expected: a duration >= 0)",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", sample-by = user }] | tokentap.shadow.targets[0].sample-by: \"user\" (expected: \"\", header:NAME or json:FIELD)",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", routes = [chats] }] | tokentap.shadow.targets[0].routes: \"chats\"",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", cache-busting = salt }] | tokentap.shadow.targets[0].cache-busting: \"salt\" (expected: none, nonce or cache-salt)",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", authorization-env = TOKENTAP_TEST_UNSET_VARIABLE }] | tokentap.shadow.targets[0].authorization-env",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", max-body = huge }] | tokentap.shadow.targets[0].max-body",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", queue-size = 0 }] | tokentap.shadow.targets[0].queue-size: 0 (expected: an integer >= 1)",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", max-concurrent-streams = 0 }] | tokentap.shadow.targets[0].max-concurrent-streams",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", max-rate = -2 }] | tokentap.shadow.targets[0].max-rate",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", circuit-breaker.failure-rate-threshold = 0 }] | tokentap.shadow.targets[0].circuit-breaker.failure-rate-threshold",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", circuit-breaker.open-duration = 0s }] | tokentap.shadow.targets[0].circuit-breaker.open-duration",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", first-byte-timeout = 0s }] | tokentap.shadow.targets[0].first-byte-timeout: 0s (expected: a duration > 0)",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", io-threads = 0 }] | tokentap.shadow.targets[0].io-threads",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", speed = 2 }] | tokentap.shadow.targets[0].speed: 2 (expected: one of",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\" }, { name = s, upstream = \"http://t:1\" }] | tokentap.shadow.targets[1].name: \"s\" (expected: a name no other target has)",
    "tokentap.shadow.compare.sample = 1.5                                            | tokentap.shadow.compare.sample: 1.5 (expected: a number from 0 to 1)",
    "tokentap.shadow.compare.sample = -0.1                                           | tokentap.shadow.compare.sample: -0.1 (expected: a number >= 0",
    "tokentap.shadow.compare.max-tokens = 0                                          | tokentap.shadow.compare.max-tokens: 0 (expected: an integer >= 1)",
    "tokentap.shadow.compare.max-pending = 0                                         | tokentap.shadow.compare.max-pending: 0 (expected: an integer >= 1)",
    "tokentap.shadow.compare.samples.max-pairs = 0                                   | tokentap.shadow.compare.samples.max-pairs: 0 (expected: an integer >= 1)",
    "tokentap.shadow.targets = [{ name = s, upstream = \"http://s:1\", baseline = maybe }] | tokentap.shadow.targets[0].baseline",
    "tokentap.capture.enabled = true                                                 | tokentap.capture.file: \"\" (expected: a file path (capture is enabled))",
    "tokentap.capture.prefix-chars = 0                                               | tokentap.capture.prefix-chars: 0 (expected: an integer >= 1)",
    "tokentap.capture.max-files = 0                                                  | tokentap.capture.max-files: 0 (expected: an integer >= 1)",
    "tokentap.capture.max-file-size = 1KiB                                           | tokentap.capture.max-file-size",
    "tokentap.proxy.leak-detection = sometimes                                       | tokentap.proxy.leak-detection: sometimes (expected: disabled, simple, advanced or paranoid)",
    "tokentap.proxy.allocator = unpooled                                             | tokentap.proxy.allocator: unpooled (expected: adaptive or pooled)",
  })
  void badValueNamesItsKey(String hocon, String expectedMessageStart) {
    assertThatThrownBy(() -> load(hocon)).isInstanceOf(SettingsException.class).hasMessageContaining(expectedMessageStart.trim());
  }

  @Test
  void httpsUpstreamsAndTlsFilesAreRead() {
    String ca = TestTls.caFile().toString();
    Settings s = load("tokentap.proxy.upstream = \"https://vllm.internal/v1/\"\n"
        + "tokentap.upstream.tls.ca-file = \"" + ca + "\"\n"
        + "tokentap.proxy.tls { cert-file = \"" + TestTls.Server.LOCALHOST.certFile() + "\", key-file = \"" + TestTls.Server.LOCALHOST.keyFile() + "\" }\n"
        + "tokentap.shadow.targets = [{ name = s, upstream = \"https://s:9443\", tls.insecure-skip-verify = true }]");
    assertThat(s.proxy().upstream().secure()).isTrue();
    assertThat(s.proxy().upstream().port()).isEqualTo(443);
    assertThat(s.proxy().upstream().authority()).isEqualTo("vllm.internal");
    assertThat(s.upstream().tls()).isEqualTo(new ClientTls(java.nio.file.Path.of(ca), false));
    assertThat(s.proxy().tls().keyFile()).isEqualTo(TestTls.Server.LOCALHOST.keyFile());
    assertThat(s.shadow().targets().get(0).tls()).isEqualTo(new ClientTls(null, true));
    Settings defaults = load("");
    assertThat(defaults.proxy().tls()).as("listener TLS is off by default").isNull();
    assertThat(defaults.upstream().tls()).as("verification is on by default").isEqualTo(new ClientTls(null, false));
  }

  @Test
  void listenerCertificateWithoutKeyNamesTheMissingKey() {
    assertThatThrownBy(() -> load("tokentap.proxy.tls.cert-file = \"" + TestTls.Server.LOCALHOST.certFile() + "\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("tokentap.proxy.tls.key-file: \"\" (expected: a PEM file path: TLS needs both");
  }

  @Test
  void keyFileThatHoldsNoPrivateKeyIsRefused() {
    String cert = TestTls.Server.LOCALHOST.certFile().toString();
    assertThatThrownBy(() -> load("tokentap.proxy.tls { cert-file = \"" + cert + "\", key-file = \"" + cert + "\" }"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("tokentap.proxy.tls.key-file: \"" + cert + "\" (expected: a PEM file with a -----BEGIN PRIVATE KEY----- block");
  }

  @Test
  void caFileThatHoldsNoCertificateIsRefused() {
    String key = TestTls.Server.LOCALHOST.keyFile().toString();
    assertThatThrownBy(() -> load("tokentap.upstream.tls.ca-file = \"" + key + "\""))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("tokentap.upstream.tls.ca-file: \"" + key + "\" (expected: a PEM file with a -----BEGIN CERTIFICATE----- block");
  }

  @Test
  void verifyingAgainstACaAndSkippingVerificationAreExclusive() {
    assertThatThrownBy(() -> load("tokentap.upstream.tls { ca-file = \"" + TestTls.caFile() + "\", insecure-skip-verify = true }"))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("tokentap.upstream.tls.insecure-skip-verify: true (expected: false when tokentap.upstream.tls.ca-file is set");
  }

  @Test
  void wrongTypeAgainstReferenceNamesItsKey() {
    assertThatThrownBy(() -> load("tokentap.upstream = 5")).isInstanceOf(SettingsException.class).hasMessageContaining("tokentap.upstream");
  }

  @Test
  void theShippedExampleLoadsAndItsGatewayRuleComesBeforeTheDefaultRoutes() {
    Settings s = SettingsLoader.load(SettingsLoader.resolve(new java.io.File("../config/tokentap.conf"), Map.of()));
    assertThat(s.metrics().routes().get(0).path()).isEqualTo("/openai/deployments/{model}/chat/completions");
    assertThat(s.metrics().routes()).hasSize(load("").metrics().routes().size() + 2);
  }

  @Test
  void missingConfigFileIsNamed() {
    assertThatThrownBy(() -> SettingsLoader.resolve(new java.io.File("/no/such.conf"), Map.of()))
        .isInstanceOf(SettingsException.class).hasMessageContaining("/no/such.conf");
  }
}

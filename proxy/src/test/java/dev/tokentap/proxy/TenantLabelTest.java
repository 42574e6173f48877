package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tenant label through a real proxy and emulator (tokentap.metrics.tenant): from a header, from
 * a salted hash of the API key (the key itself appears nowhere: /metrics, access log, capture, log
 * output), bounded with overflow to {@code other}, absent from per-gap ITL, and absent altogether
 * when off.
 */
class TenantLabelTest {
  private static Emulator emulator;

  @BeforeAll
  static void startEmulator() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
  }

  @AfterAll
  static void stopEmulator() {
    emulator.close();
  }

  private static final String BODY = "{\"model\":\"tm\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"max_tokens\":4,"
      + "\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";

  private static void send(ProxyHarness proxy, String header, String value) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(proxy.url("/v1/chat/completions")).header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(BODY));
    if (header != null) {
      b.header(header, value);
    }
    HttpResponse<String> r = proxy.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  private static List<String> labels(String metrics, String family, String label) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("(?m)^" + family + "\\{([^}]*)\\}").matcher(metrics);
    while (m.find()) {
      Matcher l = Pattern.compile(label + "=\"([^\"]*)\"").matcher(m.group(1));
      out.add(l.find() ? l.group(1) : null);
    }
    return out;
  }

  @Test
  void tenantsFromAHeaderAreBoundedAndOverflowIsCounted() throws Exception {
    try (ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(),
        Map.of("tokentap.metrics.tenant.source", "header", "tokentap.metrics.tenant.max-tenants", 2))) {
      assertThat(proxy.metrics()).contains("tokentap_tenant_label_overflow_total 0.0");
      List<String> seen = new ArrayList<>();
      for (String tenant : new String[] {"acme", "globex", "initech", null, "acme"}) {
        send(proxy, tenant == null ? null : "X-Tenant-Id", tenant);
        seen.add(proxy.next().tenant());
      }
      assertThat(seen).containsExactly("acme", "globex", "other", "unknown", "acme");

      String metrics = proxy.metrics();
      assertThat(metrics).contains("tokentap_tenant_label_overflow_total 1.0");
      for (String family : new String[] {"tokentap_requests_total", "tokentap_time_to_first_token_seconds_count",
          "tokentap_time_per_output_token_seconds_count", "tokentap_request_duration_seconds_count", "tokentap_tokens_total",
          "tokentap_request_tokens_count"}) {
        assertThat(labels(metrics, family, "tenant")).as(family).isNotEmpty().doesNotContainNull()
            .containsOnly("acme", "globex", "other", "unknown");
      }
      assertThat(metrics).contains("tokentap_requests_total{model=\"tm\",outcome=\"ok\",role=\"primary\",route=\"chat\",slo=\"met\",target=\"production\",tenant=\"acme\"} 2.0");
      assertThat(labels(metrics, "tokentap_inter_token_latency_seconds_count", "tenant")).as("ITL has no tenant").isNotEmpty().containsOnlyNulls();
      assertThat(labels(metrics, "tokentap_tokens_per_event_count", "tenant")).containsOnlyNulls();
    }
  }

  @Test
  void hashedApiKeysNameTenantsAndTheKeyIsWrittenNowhere(@TempDir Path dir) throws Exception {
    String salt = "pepper-for-tests";
    String keyOne = "sk-tenant-one-SECRET-1234567890";
    String keyTwo = "sk-tenant-two-SECRET-0987654321";
    Path log = dir.resolve("access.log");
    Path capture = dir.resolve("capture.jsonl");
    Map<String, Object> config = new HashMap<>(Map.of("tokentap.metrics.tenant.source", "api-key", "tokentap.metrics.tenant.salt", salt,
        "tokentap.access-log.enabled", true, "tokentap.access-log.destination", log.toString(),
        "tokentap.capture.enabled", true, "tokentap.capture.file", capture.toString()));
    PrintStream err = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    System.setErr(new PrintStream(new dev.tokentap.testkit.TeeStream(err, logged), true, StandardCharsets.UTF_8));
    String metrics;
    List<String> seen = new ArrayList<>();
    try (ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(), config)) {
      send(proxy, "authorization", "Bearer " + keyOne);
      send(proxy, "x-api-key", keyTwo);
      send(proxy, "Authorization", "Bearer " + keyOne);
      send(proxy, null, null);
      for (int i = 0; i < 4; i++) {
        seen.add(proxy.next().tenant());
      }
      metrics = proxy.metrics();
      AccessLogTest.awaitLines(log, 4);
      AccessLogTest.awaitLines(capture, 4);
    } finally {
      System.setErr(err);
    }
    String one = hmac(salt, keyOne);
    String two = hmac(salt, keyTwo);
    assertThat(one).hasSize(12).isNotEqualTo(two);
    assertThat(seen).containsExactly(one, two, one, "unknown");
    assertThat(labels(metrics, "tokentap_requests_total", "tenant")).containsOnly(one, two, "unknown");
    String accessLog = Files.readString(log);
    String captured = Files.readString(capture);
    assertThat(accessLog).contains("\"tenant\":\"" + one + "\"", "\"tenant\":\"" + two + "\"");
    assertThat(captured).contains("\"tenant\":\"" + one + "\"", "\"tenant\":\"" + two + "\"");
    for (String written : new String[] {metrics, accessLog, captured, logged.toString(StandardCharsets.UTF_8)}) {
      assertThat(written).doesNotContain("SECRET", keyOne, keyTwo, salt);
    }
  }

  @Test
  void withoutASaltEachProcessDrawsItsOwn() throws Exception {
    String key = "sk-unsalted-SECRET";
    List<String> names = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      try (ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(), Map.of("tokentap.metrics.tenant.source", "api-key"))) {
        send(proxy, "authorization", "Bearer " + key);
        names.add(proxy.next().tenant());
      }
    }
    assertThat(names.get(0)).matches("[0-9a-f]{12}").isNotEqualTo(names.get(1)).isNotEqualTo(hmac("", key));
  }

  @Test
  void offByDefaultNoSeriesCarriesATenant() throws Exception {
    try (ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString())) {
      send(proxy, "x-tenant-id", "acme");
      assertThat(proxy.next().tenant()).isNull();
      String metrics = proxy.metrics();
      assertThat(metrics).contains("tokentap_requests_total{model=\"tm\",outcome=\"ok\",role=\"primary\",route=\"chat\",slo=\"met\",target=\"production\"} 1.0");
      assertThat(metrics).doesNotContain("tenant=", "acme", "tokentap_tenant_label_overflow");
    }
  }

  private static String hmac(String salt, String key) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(salt.isEmpty() ? new byte[1] : salt.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(key.getBytes(StandardCharsets.UTF_8)), 0, 6);
  }
}

package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.config.SettingsException;
import dev.tokentap.proxy.record.CaptureRecord;
import dev.tokentap.proxy.record.FinishedRequest;
import java.io.StringWriter;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trace capture through a real proxy and emulator: one line per production request with lengths and
 * a prefix group, never text or headers unless include-text is on.
 */
class TraceCaptureTest {
  private static final String SYSTEM = "You are a careful assistant who answers with short sentences. ".repeat(4);
  private static Emulator emulator;

  @BeforeAll
  static void startEmulator() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
  }

  @AfterAll
  static void stopEmulator() {
    emulator.close();
  }

  private static ProxyHarness proxy(Path file, Map<String, Object> extra) throws Exception {
    Map<String, Object> overrides = new HashMap<>(Map.of("tokentap.capture.enabled", true, "tokentap.capture.file", file.toString(),
        "tokentap.capture.prefix-chars", 64));
    overrides.putAll(extra);
    return new ProxyHarness(emulator.baseUri().toString(), overrides);
  }

  private static String chat(String system, String user, int maxTokens) {
    String messages = (system == null ? "" : "{\"role\":\"system\",\"content\":\"" + system + "\"},")
        + "{\"role\":\"user\",\"content\":\"" + user + "\"}";
    return "{\"model\":\"captured\",\"stream\":true,\"max_tokens\":" + maxTokens + ",\"ignore_eos\":true,\"messages\":[" + messages + "]}";
  }

  private static void send(ProxyHarness proxy, String body) throws Exception {
    HttpResponse<String> r = proxy.http.send(HttpRequest.newBuilder(proxy.url("/v1/chat/completions"))
        .header("authorization", "Bearer sk-capture-secret-key")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
  }

  @Test
  void oneLinePerRequestWithLengthsAndPrefixGroupsButNoText(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("capture.jsonl");
    List<FinishedRequest> records = new java.util.ArrayList<>();
    String metrics;
    try (ProxyHarness proxy = proxy(file, Map.of())) {
      send(proxy, chat(SYSTEM, "purple elephant question", 5));
      send(proxy, chat(SYSTEM, "another zebra question entirely", 9));
      send(proxy, chat(null, "standalone walrus prompt", 3));
      for (int i = 0; i < 3; i++) {
        records.add(proxy.next());
      }
      awaitLines(file, 3);
      metrics = proxy.metrics();
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3);
    List<CaptureRecord> captured = lines.stream().map(CaptureRecord::parse).toList();
    for (int i = 0; i < 3; i++) {
      CaptureRecord c = captured.get(i);
      FinishedRequest r = records.get(i);
      assertThat(c.route()).isEqualTo("chat");
      assertThat(c.model()).isEqualTo("captured");
      assertThat(c.target()).isEqualTo("production");
      assertThat(c.status()).isEqualTo(200);
      assertThat(c.outcome()).isEqualTo("ok");
      assertThat(c.tokenSource()).isEqualTo("usage");
      assertThat(c.inputTokens()).isEqualTo(r.inputTokens()).isPositive();
      assertThat(c.outputTokens()).isEqualTo(r.outputTokens());
      assertThat(c.arrivalMillis()).isEqualTo(r.wallClockStartMillis());
      assertThat(c.offsetMicros()).isNotNegative();
      assertThat(c.body()).isNull();
    }
    assertThat(captured).extracting(CaptureRecord::outputTokens).containsExactly(5L, 9L, 3L);
    // The first two share the system prompt (longer than prefix-chars): one group, cut there.
    assertThat(captured.get(0).prefixHash()).isEqualTo(captured.get(1).prefixHash()).isEqualTo(CaptureRecord.prefixHash(SYSTEM.substring(0, 64)));
    assertThat(captured.get(0).prefixChars()).isEqualTo(64);
    assertThat(captured.get(0).prefixWhole()).isFalse();
    assertThat(captured.get(2).prefixHash()).isNotEqualTo(captured.get(0).prefixHash());
    assertThat(captured.get(2).prefixWhole()).isTrue();
    assertThat(captured.get(2).prefixChars()).isEqualTo("standalone walrus prompt".length());

    String text = Files.readString(file);
    assertThat(text).doesNotContain("careful", "elephant", "zebra", "walrus", "sk-capture-secret-key", "Bearer", "authorization");
    assertThat(metrics).contains("tokentap_capture_records_total 3.0").contains("tokentap_capture_dropped_total 0.0");
  }

  @Test
  void includeTextStoresTheBodyAsJson(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("capture.jsonl");
    String body = chat(null, "keep this text", 4);
    try (ProxyHarness proxy = proxy(file, Map.of("tokentap.capture.include-text", true))) {
      send(proxy, body);
      proxy.next();
      awaitLines(file, 1);
    }
    CaptureRecord c = CaptureRecord.parse(Files.readAllLines(file).get(0));
    assertThat(c.body()).isEqualTo(new ObjectMapper().readTree(body));
    assertThat(Files.readString(file)).contains("keep this text").doesNotContain("sk-capture-secret-key");
  }

  @Test
  void rotatesBySize(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("capture.jsonl");
    try (ProxyHarness proxy = proxy(file, Map.of("tokentap.capture.max-file-size", "4KiB", "tokentap.capture.max-files", 2))) {
      for (int i = 0; i < 20; i++) {
        send(proxy, chat(null, "rotation " + i, 2));
        proxy.next();
      }
    }
    // ~400-byte lines: the 4 KiB file rotated at least once; with max-files 2 only file.1 is kept.
    assertThat(dir.resolve("capture.jsonl.1")).exists();
    assertThat(dir.resolve("capture.jsonl.2")).doesNotExist();
    long lines = Files.readAllLines(file).size() + Files.readAllLines(dir.resolve("capture.jsonl.1")).size();
    assertThat(lines).isBetween(1L, 20L);
    assertThat(Files.size(dir.resolve("capture.jsonl.1"))).isGreaterThanOrEqualTo(4096);
  }

  @Test
  void aFileThatCannotBeOpenedStopsTheStart(@TempDir Path dir) {
    Path file = dir.resolve("no-such-dir").resolve("capture.jsonl");
    assertThatThrownBy(() -> proxy(file, Map.of()))
        .isInstanceOf(SettingsException.class)
        .hasMessageContaining("tokentap.capture.file: \"" + file + "\" (expected: a file tokentap can create or append to");
  }

  @Test
  void recordsRoundTripAndBadLinesSayWhy() throws Exception {
    CaptureRecord r = new CaptureRecord(1_700_000_000_123L, 4_567_890L, "chat", "m", "production", 200, "ok", 120, 33, "usage",
        12.5, 80.25, 900, "0123456789abcdef", 512, false, null, "team-a");
    StringWriter w = new StringWriter();
    try (var g = new com.fasterxml.jackson.core.JsonFactory().createGenerator(w)) {
      r.write(g);
    }
    assertThat(CaptureRecord.parse(w.toString())).isEqualTo(r);
    assertThatThrownBy(() -> CaptureRecord.parse("{oops")).hasMessageStartingWith("not JSON");
    assertThatThrownBy(() -> CaptureRecord.parse("[1]")).hasMessageContaining("expected a JSON object");
    assertThatThrownBy(() -> CaptureRecord.parse("{\"route\":\"chat\"}")).hasMessageContaining("no arrival time");
    assertThatThrownBy(() -> CaptureRecord.parse("{\"offset_us\":1,\"input_tokens\":-3}")).hasMessageContaining("\"input_tokens\": -3");
  }

  private static void awaitLines(Path file, int n) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (Files.exists(file) && Files.readAllLines(file).size() >= n) {
        return;
      }
      Thread.sleep(20);
    }
  }
}

package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.Route;
import dev.tokentap.proxy.record.AccessLog;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.Role;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One JSON line per request with the record's numbers, and never the prompt, completion or key. */
class AccessLogTest {
  @Test
  void writesOneLinePerRequestWithoutContent(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("access.log");
    String secretPrompt = "my-secret-prompt-words";
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()));
        ProxyHarness proxy = new ProxyHarness(emulator.baseUri().toString(),
            Map.of("tokentap.access-log.enabled", true, "tokentap.access-log.destination", log.toString()))) {
      String completion = proxy.http.send(HttpRequest.newBuilder(proxy.url("/v1/chat/completions"))
              .header("authorization", "Bearer sk-very-secret-key")
              .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"logged\",\"stream\":true,\"max_tokens\":6,\"ignore_eos\":true,"
                  + "\"messages\":[{\"role\":\"user\",\"content\":\"" + secretPrompt + "\"}]}")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      FinishedRequest record = proxy.next();

      List<String> lines = awaitLines(log, 1);
      assertThat(lines).hasSize(1);
      JsonNode line = new ObjectMapper().readTree(lines.get(0));
      assertThat(line.get("route").asText()).isEqualTo("chat");
      assertThat(line.get("model").asText()).isEqualTo("logged");
      assertThat(line.get("status").asInt()).isEqualTo(200);
      assertThat(line.get("outcome").asText()).isEqualTo("ok");
      assertThat(line.get("output_tokens").asLong()).isEqualTo(6).isEqualTo(record.outputTokens());
      assertThat(line.get("token_source").asText()).isEqualTo("usage");
      assertThat(line.get("finish_reason").asText()).isEqualTo("length"); // max_tokens with ignore_eos
      assertThat(line.get("ttft_ms").asDouble()).isEqualTo(Math.round(record.ttftSeconds() * 1e6) / 1e3);
      assertThat(line.get("e2e_ms").asDouble()).isEqualTo(Math.round(record.e2eSeconds() * 1e6) / 1e3);
      assertThat(line.has("ts")).isTrue();

      String text = Files.readString(log);
      assertThat(text).doesNotContain(secretPrompt, "sk-very-secret-key");
      // Nor the generated text.
      StringBuilder generated = new StringBuilder();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"content\":\"([^\"]+)\"").matcher(completion);
      while (m.find()) {
        generated.append(m.group(1));
      }
      assertThat(generated.toString().split(" ")).hasSizeGreaterThan(3);
      assertThat(text).doesNotContain(generated.toString().trim());
    }
  }

  /**
   * Lines written in batches reach the file in order, a line after an idle spell (the writer
   * blocked) still arrives, and a batch the disk refuses is counted as dropped without stopping
   * the writer.
   */
  @Test
  void batchesLinesAndSurvivesAFullDisk(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("batched.log");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (AccessLog log = new AccessLog(file.toString(), 1024, registry)) {
      for (int i = 0; i < 300; i++) {
        log.onFinished(finished(200 + i % 3));
      }
      assertThat(awaitLines(file, 300)).hasSize(300)
          .extracting(l -> new ObjectMapper().readTree(l).get("status").asInt())
          .startsWith(200, 201, 202, 200);
      Thread.sleep(1200); // past the idle spell: the writer now blocks until the next line
      log.onFinished(finished(504));
      assertThat(awaitLines(file, 301)).hasSize(301).last().asString().contains("\"status\":504");
    }
    assertThat(registry.get("tokentap.access.log.dropped").counter().count()).isZero();

    SimpleMeterRegistry full = new SimpleMeterRegistry();
    try (AccessLog log = new AccessLog("/dev/full", 1024, full)) {
      log.onFinished(finished(200));
      awaitCount(full, 1);
      log.onFinished(finished(200)); // the writer is still there
      awaitCount(full, 2);
    }
    assertThat(full.get("tokentap.access.log.dropped").counter().count()).as("each line refused, counted once").isEqualTo(2);
  }

  /**
   * Lines that come faster than the writer's batch interval reach the file in a few writes, not one
   * per line: the process's write calls ({@code syscw} in /proc/self/io) while 500 lines are logged
   * stay far below 500. (Each line's generator used to flush the stream when it closed.)
   */
  @Test
  void aBurstOfLinesIsAFewWritesNotOnePerLine(@TempDir Path dir) throws Exception {
    Path io = Path.of("/proc/self/io");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(io), "needs Linux's /proc/self/io");
    Path file = dir.resolve("burst.log");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (AccessLog log = new AccessLog(file.toString(), 1024, registry)) {
      log.onFinished(finished(200));
      awaitLines(file, 1); // the writer is running and idle-waiting
      long before = writeCalls(io);
      for (int i = 0; i < 500; i++) {
        log.onFinished(finished(200));
      }
      assertThat(awaitLines(file, 501)).hasSize(501);
      assertThat(writeCalls(io) - before).as("write calls for 500 lines").isLessThan(100);
    }
    assertThat(registry.get("tokentap.access.log.dropped").counter().count()).isZero();
  }

  private static long writeCalls(Path io) throws Exception {
    return Files.readAllLines(io).stream().filter(l -> l.startsWith("syscw:"))
        .mapToLong(l -> Long.parseLong(l.substring(6).trim())).findFirst().orElseThrow();
  }

  private static void awaitCount(SimpleMeterRegistry registry, double n) throws InterruptedException {
    for (int i = 0; i < 200 && registry.get("tokentap.access.log.dropped").counter().count() < n; i++) {
      Thread.sleep(10);
    }
    assertThat(registry.get("tokentap.access.log.dropped").counter().count()).isGreaterThanOrEqualTo(n);
  }

  private static FinishedRequest finished(int status) {
    return new FinishedRequest(Role.PRIMARY, "primary", Route.CHAT, "m", "POST", 0, 0, 0, 0, 3, status, Outcome.OK,
        "none", 10, 100, null, 1);
  }

  static List<String> awaitLines(Path file, int n) throws Exception {
    for (int i = 0; i < 100; i++) {
      if (Files.exists(file)) {
        List<String> lines = Files.readAllLines(file);
        if (lines.size() >= n) {
          return lines;
        }
      }
      Thread.sleep(20);
    }
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }
}

package dev.tokentap.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Prometheus on loopback for a test: Debian's {@code prometheus} binary with a generated
 * config that scrapes the given ports every second as {@code job="tokentap"}. Without the binary the
 * test is skipped, unless {@code TOKENTAP_REQUIRE_PROMETHEUS=true} (CI), where it fails.
 */
public final class TestPrometheus implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final URI base;
  private final Path log;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  private TestPrometheus(Process process, URI base, Path log) {
    this.process = process;
    this.base = base;
    this.log = log;
  }

  /** Starts Prometheus in {@code dir} scraping {@code targetPorts} on 127.0.0.1, or skips the test when it is not installed. */
  public static TestPrometheus scraping(Path dir, List<Integer> targetPorts) throws IOException {
    Path binary = onPath("prometheus");
    if (binary == null) {
      assertThat(System.getenv("TOKENTAP_REQUIRE_PROMETHEUS")).as("prometheus is required here but not installed").isNotEqualTo("true");
      Assumptions.abort("prometheus is not installed (Debian package prometheus)");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: tokentap\n    static_configs:\n"
        + "      - targets: [" + targetPorts.stream().map(p -> "'127.0.0.1:" + p + "'").collect(Collectors.joining(", ")) + "]\n");
    Path log = dir.resolve("prometheus.log");
    Process process = new ProcessBuilder(binary.toString(), "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
        "--web.listen-address=127.0.0.1:" + port).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new TestPrometheus(process, URI.create("http://127.0.0.1:" + port), log);
  }

  public URI baseUri() {
    return base;
  }

  /** Waits up to {@code timeout} until {@code promql} has a series whose value is at least {@code atLeast}. */
  public void await(String promql, double atLeast, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "nothing";
    while (System.nanoTime() < deadline) {
      try {
        JsonNode result = query(promql);
        last = result.toString();
        for (JsonNode r : result) {
          if (Double.parseDouble(r.path("value").path(1).asText("NaN")) >= atLeast) {
            return;
          }
        }
      } catch (IOException notUpYet) {
        last = notUpYet.toString();
      }
      Thread.sleep(200);
    }
    throw new AssertionError(promql + " never reached " + atLeast + " within " + timeout + "; last " + last + "; log:\n" + Files.readString(log));
  }

  /** The result array of an instant query. */
  public JsonNode query(String promql) throws IOException, InterruptedException {
    URI uri = URI.create(base + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body()).path("data").path("result");
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    process.waitFor();
  }

  private static Path onPath(String name) {
    for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path candidate = Path.of(p, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}

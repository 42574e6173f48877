package dev.tokentap.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.testkit.RawHttpClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tokentap proxy} as its own process, stopped the way Kubernetes stops it: SIGTERM while a
 * stream is in flight. Readiness turns false first, the listener refuses new connections, the
 * stream finishes whole, and only then does the process exit, well before the grace period.
 * ({@code GracefulShutdownTest} pins the same sequence in-process, in more detail.)
 */
class ProxySigtermTest {
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void sigtermDrainsTheStreamInFlightAfterReadinessTurnsFalse(@TempDir Path dir) throws Exception {
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.realistic()))) {
      int port = freePort();
      int admin = freePort();
      Path config = dir.resolve("tokentap.conf");
      Files.writeString(config, "tokentap.proxy.shutdown-grace-period = 30s\n");
      Path log = dir.resolve("proxy.log");
      Process proxy = new ProcessBuilder(javaBin(), "-cp", System.getProperty("java.class.path"), Main.class.getName(), "proxy",
          "--listen", "127.0.0.1:" + port, "--admin", "127.0.0.1:" + admin, "--upstream", emulator.baseUri().toString(),
          "--config", config.toString())
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      try {
        awaitReady(admin, proxy, log);
        RawHttpClient streaming = new RawHttpClient(port);
        // 300 tokens of ~7 ms: about 2 s, far longer than the checks below take.
        streaming.post("/v1/chat/completions",
            "{\"model\":\"m\",\"stream\":true,\"max_tokens\":300,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"go\"}]}");
        RawHttpClient.Response head = streaming.readHead();
        assertThat(head.status()).isEqualTo(200);

        proxy.destroy(); // SIGTERM
        awaitNotReady(admin);
        assertThat(proxy.isAlive()).as("the process waits for the stream in flight").isTrue();
        // Readiness turns false first and the listener closes right after it: a connection tried in
        // between is still taken (once in CI), so the check waits for the refusal, briefly.
        awaitRefused(port);
        assertThat(proxy.isAlive()).as("the process still waits for the stream in flight").isTrue();
        assertThatThrownBy(() -> new RawHttpClient(port).close()).as("new connections are refused").isInstanceOf(ConnectException.class);

        ByteArrayOutputStream body = new ByteArrayOutputStream();
        assertThat(streaming.readBody(head, body)).as("the stream in flight ends properly").isTrue();
        assertThat(body.toString()).endsWith("data: [DONE]\n\n");
        long events = body.toString().lines().filter(l -> l.startsWith("data: {")).count();
        assertThat(events).as("every token arrived").isGreaterThanOrEqualTo(300);
        streaming.close();
        assertThat(proxy.waitFor(10, TimeUnit.SECONDS)).as("exits once drained, not at the 30 s deadline").isTrue();
        assertThat(proxy.exitValue()).as(Files.readString(log)).isIn(0, 143); // 143: the JVM's exit status after SIGTERM
      } finally {
        proxy.destroyForcibly();
      }
    }
  }

  private static void awaitReady(int admin, Process proxy, Path log) throws Exception {
    for (int i = 0; i < 300; i++) {
      if (!proxy.isAlive()) {
        throw new AssertionError("tokentap proxy exited: " + Files.readString(log));
      }
      if (readyStatus(admin) == 200) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("tokentap proxy never became ready: " + Files.readString(log));
  }

  private static void awaitRefused(int port) throws Exception {
    for (int i = 0; i < 100; i++) {
      try {
        new RawHttpClient(port).close();
      } catch (ConnectException refused) {
        return;
      }
      Thread.sleep(20);
    }
  }

  private static void awaitNotReady(int admin) throws Exception {
    for (int i = 0; i < 100; i++) {
      int status = readyStatus(admin);
      if (status == 503) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("/ready did not turn 503 after SIGTERM");
  }

  /** The status of GET /ready; -1 when the admin listener does not answer. */
  private static int readyStatus(int admin) throws InterruptedException {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/ready")).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }
}

package dev.tokentap.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user runs it: exit statuses, messages, and a short demo. */
class MainTest {
  record Run(int status, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void badConfigFileExitsNonZeroNamingTheKeyBeforeAnyPortOpens(@TempDir Path dir) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path conf = dir.resolve("bad.conf");
    Files.writeString(conf, "tokentap.upstream.idle-timeout = forever\n");
    Run r = run("proxy", "--listen", "127.0.0.1:" + port, "--config", conf.toString());
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("configuration error", "tokentap.upstream.idle-timeout", "forever", "expected");
    // Nothing listens: the check came first.
    try (ServerSocket s = new ServerSocket(port)) {
      assertThat(s.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void badFlagValueNamesTheKey() {
    Run r = run("proxy", "--upstream", "ftp://example");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("tokentap.proxy.upstream", "ftp://example");
  }

  @Test
  void unparsableConfigFileIsReported(@TempDir Path dir) throws Exception {
    Path conf = dir.resolve("broken.conf");
    Files.writeString(conf, "tokentap { proxy { listen = \n");
    Run r = run("proxy", "--config", conf.toString());
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("broken.conf");
  }

  @Test
  void badEmulatorSettingIsReported() {
    Run r = run("emulate", "--profile", "gigantic");
    assertThat(r.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(r.err()).contains("gigantic");
    Run half = run("emulate", "--fixed-timing", "80ms");
    assertThat(half.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(half.err()).contains("--fixed-timing: 80ms (expected: FIRST/NEXT, e.g. 80ms/12ms)");
    Run negative = run("emulate", "--fixed-timing", "80ms/-1ms");
    assertThat(negative.status()).isEqualTo(Main.CONFIG_ERROR);
    assertThat(negative.err()).contains("tokentap.emulator.fixed-timing.inter-token: -1ms");
  }

  @Test
  void portInUseIsReportedWithTheKey() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Run r = run("proxy", "--listen", "127.0.0.1:" + taken.getLocalPort(), "--admin", "127.0.0.1:0");
      assertThat(r.status()).isEqualTo(Main.IO_ERROR);
      assertThat(r.err()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort(), "tokentap.proxy.listen");
    }
  }

  @Test
  void unknownOptionIsAUsageError() {
    Run r = run("proxy", "--lissen", "x");
    assertThat(r.status()).isEqualTo(2);
    assertThat(r.err()).contains("--lissen");
  }

  /** The side's {@code total} line, split at blanks: window, side, req/s, ok%, ... */
  private static String[] total(Run r, String side) {
    return totalLine(r, side).trim().split("\\s+");
  }

  private static String totalLine(Run r, String side) {
    return r.out().lines().filter(l -> l.trim().startsWith("total") && l.contains(" " + side + " ")).findFirst().orElseThrow();
  }

  private static double tpotP50(Run r, String side) {
    return Double.parseDouble(totalLine(r, side).split("\\|")[2].trim().split("\\s+")[0]);
  }

  @Test
  void helpListsTheVerbs() {
    Run r = run("--help");
    assertThat(r.status()).isZero();
    assertThat(r.out()).contains("proxy", "emulate", "demo");
  }

  @Test
  void demoRunsForItsDurationAndPrintsLiveNumbers() {
    Run r = run("demo", "--duration", "5s", "--rate", "10", "--profile", "realistic", "--report-every", "1s",
        "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0");
    assertThat(r.status()).as(r.err()).isZero();
    assertThat(r.out()).contains("/metrics", "TTFT ms p50 / p95 / p99", "total", "/admin/shadow/summary");
    assertThat(Double.parseDouble(total(r, "production")[2])).isGreaterThan(2); // 10/s offered; the first finish after ~1 s
    // The staging emulator (--staging-factor 2 by default) steps twice as slowly.
    assertThat(Double.parseDouble(total(r, "staging")[2])).isPositive();
    assertThat(tpotP50(r, "staging")).isGreaterThan(tpotP50(r, "production"));
    // --staging-divergence 0.2 by default: most answers the same, some not.
    java.util.regex.Matcher compared = java.util.regex.Pattern.compile("answers compared \\(staging divergence 0.20\\): (\\d+) pairs, similarity (\\S+),").matcher(r.out());
    assertThat(compared.find()).as(r.out()).isTrue();
    assertThat(Integer.parseInt(compared.group(1))).isPositive();
    assertThat(Double.parseDouble(compared.group(2))).isBetween(0.3, 1.0);
  }
}

package dev.tokentap.grafana;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code promtool check rules} and {@code promtool test rules} on every shipped file, plus the
 * conventions promtool does not check: recording rule names, alert labels and annotations, runbook
 * anchors, and that the unit tests make every alert both fire and stay silent.
 */
class PromtoolTest {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final Pattern LEVEL_METRIC_OPS = Pattern.compile("[a-z_]+:[a-z_]+:[a-z0-9_]+");

  static List<Path> files(String dir, String suffix) throws IOException {
    try (Stream<Path> s = Files.list(Paths.module().resolve(dir))) {
      return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  static Path promtool() {
    Path binary = Paths.onPath("promtool");
    if (binary == null) {
      assertThat(Paths.prometheusRequired()).as("promtool is required here (TOKENTAP_REQUIRE_PROMETHEUS=true) but not on PATH; install Debian's prometheus package").isFalse();
      Assumptions.abort("promtool is not installed (Debian package prometheus); rule checks skipped");
    }
    return binary;
  }

  static String run(Path dir, List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
    assertThat(p.exitValue()).as("%s failed:%n%s", String.join(" ", command), out).isZero();
    return out;
  }

  @Test
  void promtoolChecksEveryRuleAndAlertFile() throws Exception {
    Path promtool = promtool();
    List<String> cmd = new ArrayList<>(List.of(promtool.toString(), "check", "rules"));
    List<Path> all = new ArrayList<>(files("rules", ".yml"));
    all.addAll(files("alerts", ".yml"));
    assertThat(all).hasSizeGreaterThanOrEqualTo(6);
    all.forEach(p -> cmd.add(p.toString()));
    String out = run(Paths.module(), cmd);
    assertThat(out).doesNotContain("FAILED");
  }

  @Test
  void promtoolUnitTestsPass() throws Exception {
    Path promtool = promtool();
    List<Path> tests = files("tests", ".test.yml");
    assertThat(tests).isNotEmpty();
    for (Path t : tests) {
      String out = run(t.getParent(), List.of(promtool.toString(), "test", "rules", t.getFileName().toString()));
      assertThat(out).contains("SUCCESS");
    }
  }

  @Test
  void everyRuleAndAlertFileIsCoveredByAUnitTest() throws Exception {
    Set<String> loaded = new HashSet<>();
    for (Path t : files("tests", ".test.yml")) {
      for (JsonNode f : YAML.readTree(t.toFile()).path("rule_files")) {
        loaded.add(t.getParent().resolve(f.asText()).normalize().toString());
      }
    }
    List<Path> all = new ArrayList<>(files("rules", ".yml"));
    all.addAll(files("alerts", ".yml"));
    for (Path p : all) {
      assertThat(loaded).as("a tests/*.test.yml loads %s", p.getFileName()).contains(p.normalize().toString());
    }
  }

  @Test
  void recordingRulesAreNamedLevelMetricOperations() throws Exception {
    for (Path p : files("rules", ".yml")) {
      for (JsonNode group : YAML.readTree(p.toFile()).path("groups")) {
        for (JsonNode rule : group.path("rules")) {
          String name = rule.path("record").asText();
          if (name.startsWith("gen_ai_")) {
            // The OpenTelemetry GenAI aliases must carry the OTel names exactly.
            assertThat(name).matches("gen_ai_server_(time_to_first_token|time_per_output_token|request_duration)_seconds_(bucket|sum|count)");
          } else {
            assertThat(name).as("recording rule in %s", p.getFileName()).matches(LEVEL_METRIC_OPS);
          }
        }
      }
    }
  }

  @Test
  void everyAlertHasSeveritySummaryDescriptionAndARunbookSection() throws Exception {
    String runbook = Files.readString(Paths.module().resolve("runbook.md"));
    Set<String> anchors = new HashSet<>();
    Matcher m = Pattern.compile("(?m)^#+ (.+)$").matcher(runbook);
    while (m.find()) {
      anchors.add(m.group(1).trim().toLowerCase().replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
    }
    for (Path p : files("alerts", ".yml")) {
      for (JsonNode group : YAML.readTree(p.toFile()).path("groups")) {
        for (JsonNode rule : group.path("rules")) {
          String name = rule.path("alert").asText();
          assertThat(name).as("only alerts in %s", p.getFileName()).isNotEmpty();
          assertThat(rule.path("labels").path("severity").asText()).as(name).isIn("page", "ticket");
          assertThat(rule.path("annotations").path("summary").asText()).as(name).isNotBlank();
          assertThat(rule.path("annotations").path("description").asText()).as(name).isNotBlank();
          String url = rule.path("annotations").path("runbook_url").asText();
          assertThat(url).as(name).contains("grafana/runbook.md#");
          assertThat(anchors).as("runbook.md has a section for %s", url).contains(url.substring(url.indexOf('#') + 1));
        }
      }
    }
  }

  @Test
  void everyAlertFiresInSomeTestAndStaysSilentInAnother() throws Exception {
    Set<String> alerts = new HashSet<>();
    for (Path p : files("alerts", ".yml")) {
      for (JsonNode group : YAML.readTree(p.toFile()).path("groups")) {
        group.path("rules").forEach(r -> alerts.add(r.path("alert").asText()));
      }
    }
    Set<String> fired = new HashSet<>();
    Set<String> silent = new HashSet<>();
    Set<String> firedLongWindows = new HashSet<>();
    for (Path t : files("tests", ".test.yml")) {
      for (JsonNode test : YAML.readTree(t.toFile()).path("tests")) {
        for (JsonNode a : test.path("alert_rule_test")) {
          String name = a.path("alertname").asText();
          if (a.path("exp_alerts").isEmpty()) {
            silent.add(name);
          } else {
            fired.add(name);
            a.path("exp_alerts").forEach(e -> firedLongWindows.add(name + "/" + e.path("exp_labels").path("long_window").asText()));
          }
        }
      }
    }
    assertThat(fired).as("alerts some test makes fire").containsAll(alerts);
    // "Silent" also counts a test where the alert fires for one series and not for another beside it;
    // an explicit exp_alerts: [] is required for each alert name all the same.
    assertThat(silent).as("alerts some test checks are silent").containsAll(alerts);
    // Each of the four burn-rate windows of the TTFT alert fires in some test.
    assertThat(firedLongWindows).contains("TokentapTTFTErrorBudgetBurn/1h", "TokentapTTFTErrorBudgetBurn/6h", "TokentapTTFTErrorBudgetBurn/1d", "TokentapTTFTErrorBudgetBurn/3d");
  }

  @Test
  void sloThresholdsAreBucketBoundariesAndMatchTheProxyDefaults() throws Exception {
    JsonNode values = YAML.readTree(Paths.module().resolve("values.yaml").toFile());
    String reference = Files.readString(Paths.repo().resolve("proxy/src/main/resources/reference.conf"));
    // reference.conf's default SLO: { model = "*", route = "*", ttft = 2s, tpot = 100ms }
    assertThat(reference).contains("ttft = 2s, tpot = 100ms");
    assertThat(Double.parseDouble(values.path("ttftThresholdLe").asText())).isEqualTo(2.0);
    assertThat(Double.parseDouble(values.path("tpotThresholdLe").asText())).isEqualTo(0.1);
    // Micrometer renders le as Java's Double.toString: 2 s is "2.0", 100 ms is "0.1".
    assertThat(values.path("ttftThresholdLe").asText()).isEqualTo(Double.toString(2.0));
    assertThat(values.path("tpotThresholdLe").asText()).isEqualTo(Double.toString(0.1));
  }
}

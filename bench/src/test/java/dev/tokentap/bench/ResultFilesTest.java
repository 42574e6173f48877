package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files of {@code --out} for a stage list: JSON, per-step CSV, per-request JSONL and the HTML report. */
class ResultFilesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static KneeFixture fixture;
  private static StepResults results;

  @BeforeAll
  static void run() throws Exception {
    fixture = new KneeFixture();
    results = fixture.stages();
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  @Test
  void theStagesShowTheKnee() {
    assertThat(results.steps()).extracting(LoadStep::level).containsExactly(1.0, 2.0, 16.0);
    assertThat(results.steps()).extracting(LoadStep::passed).containsExactly(true, true, false);
    assertThat(results.highestPassing().level()).isEqualTo(2);
    assertThat(results.firstFailing().level()).isEqualTo(16);
    assertThat(results.bindingConstraint()).isEqualTo("ttft");
  }

  @Test
  void stepsCsvHasOneRowPerStepWithTheReportsNumbers(@TempDir Path dir) throws Exception {
    results.write(dir, null);
    List<String> lines = Files.readAllLines(dir.resolve("steps.csv"));
    assertThat(lines).hasSize(1 + results.steps().size());
    List<String> header = Arrays.asList(lines.get(0).split(",", -1));
    assertThat(header).isEqualTo(StepsCsv.COLUMNS);
    for (LoadStep s : results.steps()) {
      String[] cells = lines.get(s.index()).split(",", -1);
      assertThat(cells).hasSize(header.size());
      Map<String, String> row = header.stream().collect(Collectors.toMap(Function.identity(), h -> cells[header.indexOf(h)]));
      BenchReport r = s.report();
      assertThat(row.get("step")).isEqualTo(Integer.toString(s.index()));
      assertThat(row.get("load")).isEqualTo(r.loadDescription());
      assertThat(Double.parseDouble(row.get("level"))).isEqualTo(s.level());
      assertThat(Integer.parseInt(row.get("num_prompts"))).isEqualTo(r.requests);
      assertThat(Integer.parseInt(row.get("failed"))).isEqualTo(r.failed);
      assertThat(Integer.parseInt(row.get("cancelled"))).isEqualTo(r.cancelled).isZero();
      // Six significant digits.
      assertClose(row.get("request_throughput"), r.requestThroughput);
      assertClose(row.get("achieved_request_rate"), r.achievedRequestRate);
      assertClose(row.get("p50_ttft_ms"), r.ttftMs.p50());
      assertClose(row.get("p99_ttft_ms"), r.ttftMs.p99());
      assertClose(row.get("p90_tpot_ms"), r.tpotMs.p90());
      assertClose(row.get("p99_itl_ms"), r.itlMs.p99());
      assertClose(row.get("p50_e2el_ms"), r.e2elMs.p50());
      assertClose(row.get("request_goodput"), r.requestGoodput);
      assertClose(row.get("slo_attainment"), r.sloAttainment);
      assertThat(row.get("passed")).isEqualTo(Boolean.toString(s.passed()));
      assertThat(row.get("errors")).isEmpty();
    }
  }

  /** A CSV cell holds a value to six significant digits, or nothing when it is undefined. */
  private static void assertClose(String cell, double expected) {
    if (Double.isNaN(expected)) {
      assertThat(cell).isEmpty();
    } else {
      assertThat(Double.parseDouble(cell)).isCloseTo(expected, within(Math.abs(expected) * 1e-5 + 1e-12));
    }
  }

  @Test
  void jsonAndRequestLinesCarryEveryStep(@TempDir Path dir) throws Exception {
    results.write(dir, null);
    JsonNode json = JSON.readTree(dir.resolve("stages.json").toFile());
    assertThat(json.path("mode").asText()).isEqualTo("stages");
    assertThat(json.path("max_passing_concurrency").asDouble()).isEqualTo(2);
    assertThat(json.path("first_failing_concurrency").asDouble()).isEqualTo(16);
    assertThat(json.path("steps")).hasSize(3);
    assertThat(json.path("steps").path(2).path("passed").asBoolean()).isFalse();
    List<String> lines = Files.readAllLines(dir.resolve("requests.jsonl"));
    assertThat(lines).hasSize(results.steps().stream().mapToInt(s -> s.report().requests).sum());
    Map<Integer, Long> perStep = lines.stream().map(l -> {
      try {
        return JSON.readTree(l).path("step").asInt();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }).collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    for (LoadStep s : results.steps()) {
      assertThat(perStep.get(s.index())).isEqualTo((long) s.report().requests);
    }
    assertThat(results.files()).allSatisfy(f -> assertThat(dir.resolve(f)).exists());
  }

  @Test
  void htmlReportIsSelfContainedWithFourChartsAndTheKnee(@TempDir Path dir) throws Exception {
    results.write(dir, null);
    String html = Files.readString(dir.resolve("report.html"));
    assertThat(html).startsWith("<!DOCTYPE html>");
    assertThat(html.split("<svg ", -1)).hasSize(5);
    assertThat(html).contains("id=\"throughput-latency\"", "id=\"ttft\"", "id=\"tpot\"", "id=\"goodput\"");
    assertThat(html.split("class=\"knee\"", -1)).hasSize(5);
    assertThat(html).contains("knee: 2");
    // The steps table: failed, then cancelled (none here), for each of the three steps.
    assertThat(html).contains("<th>failed</th><th>cancelled</th>");
    // Nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere.
    assertThat(html).doesNotContain("<script", "src=", "href=", "@import", "url(");
    assertThat(html.replace("http://www.w3.org/2000/svg", "")).doesNotContain("http://", "https://");
  }
}

package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * The steps of a sweep or a stage list (or the single step of a plain run), with the knee they
 * show: the first failing step is the failing one at the lowest load; the highest passing step is
 * the passing one at the highest load below it. Without SLOs nothing passes or fails.
 *
 * @param mode {@code sweep}, {@code stages} or {@code run}
 * @param kind {@code rate} or {@code concurrency}: what {@link LoadStep#level()} measures
 * @param target SLO attainment a step must reach; NaN without SLOs
 */
public record StepResults(String mode, String kind, double target, List<LoadStep> steps) {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public StepResults {
    requireNonNull(mode, "mode");
    requireNonNull(kind, "kind");
    steps = List.copyOf(steps);
  }

  public boolean judged() {
    return !Double.isNaN(target);
  }

  /** The failing step at the lowest load; null when none failed (or no SLOs). */
  public LoadStep firstFailing() {
    return !judged() ? null : steps.stream().filter(s -> !s.passed()).min(Comparator.comparingDouble(LoadStep::level)).orElse(null);
  }

  /** The passing step at the highest load below the first failing one: the knee. */
  public LoadStep highestPassing() {
    if (!judged()) {
      return null;
    }
    LoadStep fail = firstFailing();
    double below = fail == null ? Double.POSITIVE_INFINITY : fail.level();
    return steps.stream().filter(s -> s.passed() && s.level() < below).max(Comparator.comparingDouble(LoadStep::level)).orElse(null);
  }

  public String bindingConstraint() {
    LoadStep fail = firstFailing();
    return fail == null ? "" : fail.report().bindingConstraint();
  }

  /** The steps in order of load (runs of a sweep are not). */
  public List<LoadStep> byLevel() {
    return steps.stream().sorted(Comparator.comparingDouble(LoadStep::level).thenComparingInt(LoadStep::index)).toList();
  }

  public void print(PrintWriter out) {
    out.printf("============ %s (%s%s) ============%n", mode, kind,
        judged() ? String.format(", attainment >= %.0f%%", target * 100) : "");
    for (LoadStep s : steps) {
      BenchReport r = s.report();
      out.printf("%-11s %10s  %8.2f req/s  attainment %5.1f%%  goodput %8.2f req/s  p99 TTFT %8.1f ms  p99 TPOT %7.2f ms  %s%n",
          kind, fmt(s.level()), r.requestThroughput, r.sloAttainment * 100, r.requestGoodput,
          r.ttftMs.p99(), r.tpotMs.p99(), (!judged() ? "" : s.passed() ? "pass" : "FAIL")
              + (r.generator.bottleneck() ? "  GENERATOR-BOUND" : "") + (r.generator.late() ? "  GENERATOR-LATE" : ""));
    }
    for (LoadStep s : steps) {
      if (s.report().generator.bottleneck() || s.report().generator.late()) {
        out.printf("step %d (%s):%n", s.index(), s.report().loadDescription());
        s.report().generator.printWarning(out);
      }
    }
    if (judged()) {
      LoadStep pass = highestPassing();
      LoadStep fail = firstFailing();
      out.printf("highest passing %s: %s%n", kind, pass == null ? "none" : fmt(pass.level()));
      out.printf("first failing %s:   %s%n", kind, fail == null ? "none found" : fmt(fail.level()));
      out.printf("binding constraint:   %s%n", fail == null ? "-" : bindingConstraint());
    }
    out.flush();
  }

  public ObjectNode toJson() {
    ObjectNode o = JSON.createObjectNode();
    o.put("mode", mode);
    o.put("kind", kind);
    if (judged()) {
      o.put("slo_attainment_target", target);
      LoadStep pass = highestPassing();
      LoadStep fail = firstFailing();
      if (pass != null) {
        ResultJson.number(o, "max_passing_" + kind, pass.level());
      }
      if (fail != null) {
        ResultJson.number(o, "first_failing_" + kind, fail.level());
        o.put("binding_constraint", bindingConstraint());
      }
    }
    ArrayNode arr = o.putArray("steps");
    for (LoadStep s : steps) {
      ObjectNode n = s.report().toJson();
      n.put("step", s.index());
      ResultJson.number(n, "level", s.level());
      if (judged()) {
        n.put("passed", s.passed());
      }
      arr.add(n);
    }
    return o;
  }

  /** As {@link #write(Path, ObjectNode, RunInfo)}, without the run's provenance. */
  public void write(Path dir, ObjectNode extra) throws IOException {
    write(dir, extra, null);
  }

  /**
   * Writes {@code <mode>.json} ({@code result.json} for a plain run) with {@code info}'s keys and
   * {@code extra} merged in, {@code requests.jsonl} (each request with its step), {@code steps.csv},
   * {@code slices.csv} (with {@code --slice}) and {@code report.html}.
   */
  public void write(Path dir, ObjectNode extra, RunInfo info) throws IOException {
    Files.createDirectories(dir);
    ObjectNode json = mode.equals("run") ? steps.get(0).report().toJson() : toJson();
    if (info != null) {
      json.setAll(info.toJson());
    }
    if (extra != null) {
      json.setAll(extra);
    }
    JSON.writeValue(dir.resolve(files().get(0)).toFile(), json);
    try (var w = Files.newBufferedWriter(dir.resolve("requests.jsonl"))) {
      for (LoadStep s : steps) {
        s.report().writeRequests(w, mode.equals("run") ? 0 : s.index());
      }
    }
    StepsCsv.write(this, dir.resolve("steps.csv"));
    if (sliced()) {
      SlicesCsv.write(this, dir.resolve("slices.csv"));
    }
    Files.writeString(dir.resolve("report.html"), mode.equals("run") ? RunHtmlReport.render(steps.get(0).report(), info) : HtmlReport.render(this, info));
  }

  /** The names of the files {@link #write} writes. */
  public List<String> files() {
    String json = mode.equals("run") ? "result.json" : mode + ".json";
    return sliced() ? List.of(json, "requests.jsonl", "steps.csv", "slices.csv", "report.html")
        : List.of(json, "requests.jsonl", "steps.csv", "report.html");
  }

  /** Whether the runs were cut in time slices ({@code --slice}): then {@code slices.csv} is written too. */
  private boolean sliced() {
    BenchSetup setup = steps.isEmpty() ? null : steps.get(0).report().setup();
    return setup != null && setup.sliceWidth() != null;
  }

  static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : String.format("%.3f", v);
  }
}

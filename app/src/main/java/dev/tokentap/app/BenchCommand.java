package dev.tokentap.app;

import dev.tokentap.bench.Bench;
import dev.tokentap.bench.BenchReport;
import dev.tokentap.bench.BenchRunner;
import dev.tokentap.bench.KneeSearch;
import dev.tokentap.bench.LoadPlan;
import dev.tokentap.bench.SloSpec;
import dev.tokentap.bench.StreamingClient;
import dev.tokentap.bench.Workload;
import dev.tokentap.bench.Workloads;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tokentap bench}: load-test an OpenAI-compatible endpoint; formulas in docs/bench.md. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Load-test an OpenAI-compatible inference endpoint (closed or open loop) and report TTFT, TPOT, ITL, E2E, throughput and goodput.")
final class BenchCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--target", required = true, description = "base URL of the server, e.g. http://127.0.0.1:8000 (a trailing /v1 is fine)")
  String target;

  @Option(names = "--model", description = "model name for the requests (default: the first of GET /v1/models)")
  String model;

  @Option(names = "--workload", defaultValue = "synthetic",
      description = "synthetic[:input=LEN,output=LEN] (LEN: N, uniform:MIN:MAX, normal:MEAN:SD), jsonl:PATH or sharegpt:PATH (default: ${DEFAULT-VALUE})")
  String workload;

  @Option(names = "--load", required = true,
      description = "concurrency:N (closed loop), constant:RATE, poisson:RATE or gamma:RATE:BURSTINESS (open loop, requests/s)")
  String load;

  @Option(names = "--max-concurrency", defaultValue = "0",
      description = "open loop: at most this many in flight; waiting time counts in latency (default: no ceiling)")
  int maxConcurrency;

  @Option(names = "--slo", description = "thresholds a good request meets, e.g. ttft=500ms,tpot=50ms,e2e=20s")
  String slo;

  @Option(names = "--requests", description = "measured requests (default 200 when --duration is not given)")
  Long requests;

  @Option(names = "--duration", description = "measured window, e.g. 30s or 2m")
  String duration;

  @Option(names = "--warmup", defaultValue = "0", description = "requests sent first and left out of the results (default: ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--seed", defaultValue = "0", description = "seed for synthetic lengths and arrival times (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--request-timeout", defaultValue = "10m", description = "the most a request may take, head and stream together; then it counts as timeout (default: ${DEFAULT-VALUE})")
  String requestTimeout;

  @Option(names = "--out", description = "directory for result.json and requests.jsonl (and sweep.json)")
  File out;

  @Option(names = "--sweep", description = "search for the highest load meeting --slo at --slo-target attainment, starting from --load")
  boolean sweep;

  @Option(names = "--slo-target", defaultValue = "0.9", description = "sweep: attainment a load must reach (default: ${DEFAULT-VALUE})")
  double sloTarget;

  @Option(names = "--sweep-max-steps", defaultValue = "12", description = "sweep: most runs (default: ${DEFAULT-VALUE})")
  int sweepMaxSteps;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    URI base = StreamingClient.baseOf(target);
    LoadPlan plan = LoadPlan.parse(load, maxConcurrency);
    SloSpec slos = SloSpec.parse(slo);
    Duration window = duration == null ? null : SloSpec.duration("--duration", duration);
    long count = requests != null ? requests : window == null ? 200 : Long.MAX_VALUE;
    if (count < 1) {
      throw new IllegalArgumentException("--requests: " + count + " (expected: >= 1)");
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("--warmup: " + warmup + " (expected: >= 0)");
    }
    if (sweep && slos.isEmpty()) {
      throw new IllegalArgumentException("--sweep needs --slo (the constraints the knee is defined by)");
    }
    if (!(sloTarget > 0 && sloTarget <= 1)) {
      throw new IllegalArgumentException("--slo-target: " + sloTarget + " (expected: 0 < x <= 1)");
    }
    Duration timeout = SloSpec.duration("--request-timeout", requestTimeout);
    String modelName = model != null ? model : Bench.firstModel(base);
    Workload work = Workloads.parse(workload, modelName, seed);
    try (Bench bench = new Bench(base, slos, new SimpleMeterRegistry(), timeout)) {
      if (sweep) {
        KneeSearch.Result knee = new KneeSearch(bench, sloTarget, sweepMaxSteps, stdout)
            .search(new BenchRunner.Options(work, plan, count, window, warmup, seed));
        knee.print(stdout);
        if (out != null) {
          knee.write(out.toPath());
          stdout.printf("wrote %s%n", out.toPath().resolve("sweep.json"));
        }
        return 0;
      }
      BenchReport report = bench.run(new BenchRunner.Options(work, plan, count, window, warmup, seed));
      report.printTable(stdout);
      if (out != null) {
        report.write(out.toPath());
        stdout.printf("wrote %s and requests.jsonl%n", out.toPath().resolve("result.json"));
      }
      return 0;
    }
  }
}

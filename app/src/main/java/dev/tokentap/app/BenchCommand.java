package dev.tokentap.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.bench.Bench;
import dev.tokentap.bench.BenchReport;
import dev.tokentap.bench.BenchRunner;
import dev.tokentap.bench.CapacityPlan;
import dev.tokentap.bench.KneeSearch;
import dev.tokentap.bench.LoadPlan;
import dev.tokentap.bench.LoadStep;
import dev.tokentap.bench.SloSpec;
import dev.tokentap.bench.Stages;
import dev.tokentap.bench.StepResults;
import dev.tokentap.bench.StreamingClient;
import dev.tokentap.bench.Workload;
import dev.tokentap.bench.Workloads;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.List;
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
      description = "synthetic[:input=LEN,output=LEN] (LEN: N, uniform:MIN:MAX, normal:MEAN:SD), jsonl:PATH, sharegpt:PATH "
          + "or trace:PATH (a tokentap capture) (default: ${DEFAULT-VALUE})")
  String workload;

  @Option(names = "--load", required = true,
      description = "concurrency:N (closed loop), constant:RATE, poisson:RATE or gamma:RATE:BURSTINESS (open loop, requests/s), "
          + "trace[:SPEED] (a trace workload's own arrival times, SPEED times as fast), "
          + "or stages:LOAD@[WARMUP+]HOLD,… (e.g. stages:poisson:2@30s,4@30s)")
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

  @Option(names = "--out", description = "directory for result.json (sweep.json, stages.json), requests.jsonl, steps.csv and report.html")
  File out;

  @Option(names = "--sweep", description = "search for the highest load meeting --slo at --slo-target attainment, starting from --load")
  boolean sweep;

  @Option(names = "--slo-target", defaultValue = "0.9", description = "sweep: attainment a load must reach (default: ${DEFAULT-VALUE})")
  double sloTarget;

  @Option(names = "--sweep-max-steps", defaultValue = "12", description = "sweep: most runs (default: ${DEFAULT-VALUE})")
  int sweepMaxSteps;

  @Option(names = "--stage-warmup", description = "stages: warm-up of each stage that names none, left out of the results (default: none)")
  String stageWarmup;

  @Option(names = "--peak", description = "capacity sizing after --sweep or stages: the peak to serve, e.g. 40rps or 5000tok/s (output tokens)")
  String peak;

  @Option(names = "--headroom", defaultValue = "0.3", description = "capacity sizing: spare fraction above the peak (default: ${DEFAULT-VALUE})")
  double headroom;

  @Option(names = "--publish-capacity", description = "after --sweep or stages: PUT the knee's in-flight level to this proxy admin URL (/admin/capacity)")
  String publishCapacity;

  @Option(names = "--capacity-target", description = "the proxy target the knee is for (with --publish-capacity and in the printed curl line)")
  String capacityTarget;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    URI base = StreamingClient.baseOf(target);
    boolean staged = Stages.isStages(load);
    Duration stageWarm = stageWarmup == null ? null : SloSpec.duration("--stage-warmup", stageWarmup);
    List<Stages.Stage> stages = staged ? Stages.parse(load, maxConcurrency, stageWarm) : null;
    LoadPlan plan = staged ? stages.get(0).load() : LoadPlan.parse(load, maxConcurrency);
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
    if (staged && (sweep || requests != null || duration != null || warmup > 0)) {
      throw new IllegalArgumentException("--load stages:… sets each stage's hold and warm-up; it takes no --sweep, --requests, --duration or --warmup (use LOAD@WARMUP+HOLD or --stage-warmup)");
    }
    if (!staged && stageWarmup != null) {
      throw new IllegalArgumentException("--stage-warmup applies to --load stages:…");
    }
    if (!(sloTarget > 0 && sloTarget <= 1)) {
      throw new IllegalArgumentException("--slo-target: " + sloTarget + " (expected: 0 < x <= 1)");
    }
    CapacityPlan.Peak peakLoad = peak == null ? null : CapacityPlan.Peak.parse(peak);
    if (!(headroom >= 0) || Double.isInfinite(headroom)) {
      throw new IllegalArgumentException("--headroom: " + headroom + " (expected: >= 0, e.g. 0.3 for 30%)");
    }
    if ((peakLoad != null || publishCapacity != null) && (slos.isEmpty() || !sweep && !staged)) {
      throw new IllegalArgumentException((peakLoad != null ? "--peak" : "--publish-capacity")
          + " sizes from a knee: it needs --slo and --sweep or --load stages:…");
    }
    if (publishCapacity != null && capacityTarget == null) {
      throw new IllegalArgumentException("--publish-capacity needs --capacity-target (the proxy target the knee is for)");
    }
    URI admin = publishCapacity == null ? null : StreamingClient.baseOf(publishCapacity);
    Duration timeout = SloSpec.duration("--request-timeout", requestTimeout);
    String modelName = model != null ? model : Bench.firstModel(base);
    Workload work = Workloads.parse(workload, modelName, model != null, seed);
    double target = slos.isEmpty() ? Double.NaN : sloTarget;
    try (Bench bench = new Bench(base, slos, new SimpleMeterRegistry(), timeout)) {
      StepResults results;
      if (staged) {
        results = Stages.run(bench, work, stages, seed, target, stdout);
        results.print(stdout);
      } else if (sweep) {
        results = new KneeSearch(bench, sloTarget, sweepMaxSteps, stdout)
            .search(new BenchRunner.Options(work, plan, count, window, warmup, seed));
        results.print(stdout);
      } else {
        BenchReport report = bench.run(new BenchRunner.Options(work, plan, count, window, warmup, seed));
        report.printTable(stdout);
        boolean passed = !slos.isEmpty() && report.requests > 0 && report.sloAttainment >= sloTarget;
        results = new StepResults("run", plan.closedLoop() ? "concurrency" : "rate", target,
            List.of(new LoadStep(1, plan.level(), passed, report)));
      }
      ObjectNode extra = new ObjectMapper().createObjectNode();
      if (!results.mode().equals("run")) {
        capacity(results, peakLoad, admin, extra, stdout);
      }
      if (out != null) {
        results.write(out.toPath(), extra);
        stdout.printf("wrote %s in %s%n", String.join(", ", results.files()), out.toPath());
      }
      return 0;
    }
  }

  /** Sizing, the curl line and the optional publish, from the knee of a sweep or stage list. */
  private void capacity(StepResults results, CapacityPlan.Peak peakLoad, URI admin, ObjectNode extra, PrintWriter stdout)
      throws Exception {
    LoadStep knee = results.highestPassing();
    if (knee == null) {
      if (peakLoad != null || admin != null) {
        throw new IllegalArgumentException("no step met the SLOs at " + Math.round(sloTarget * 100)
            + "% attainment, so there is no knee to size from or publish; start lower");
      }
      return;
    }
    boolean closed = results.kind().equals("concurrency");
    int inFlight = CapacityPlan.kneeInFlight(knee, closed);
    String adminText = admin == null ? null : admin.toString();
    if (peakLoad != null) {
      CapacityPlan plan = CapacityPlan.size(results, peakLoad, headroom);
      plan.print(stdout, adminText, capacityTarget);
      extra.set("capacity", plan.toJson());
    } else if (closed) {
      CapacityPlan.printCurl(stdout, adminText, capacityTarget, inFlight);
    }
    if (admin != null) {
      CapacityPlan.publish(admin, capacityTarget, inFlight);
      stdout.printf("published capacity: %s in-flight=%d for target %s%n", admin, inFlight, capacityTarget);
      extra.putObject("published_capacity").put("admin", adminText).put("target", capacityTarget).put("in_flight", inFlight);
    }
  }
}

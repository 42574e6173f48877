package dev.tokentap.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.bench.Bench;
import dev.tokentap.bench.BenchListener;
import dev.tokentap.bench.BenchMetrics;
import dev.tokentap.bench.BenchProgress;
import dev.tokentap.bench.BenchReport;
import dev.tokentap.bench.BenchRunner;
import dev.tokentap.bench.BenchSetup;
import dev.tokentap.bench.BenchWarmup;
import dev.tokentap.bench.CapacityPlan;
import dev.tokentap.bench.FailureGate;
import dev.tokentap.bench.KneeSearch;
import dev.tokentap.bench.LoadPlan;
import dev.tokentap.bench.LoadStep;
import dev.tokentap.bench.Ramp;
import dev.tokentap.bench.RunInfo;
import dev.tokentap.bench.Sessions;
import dev.tokentap.bench.Shard;
import dev.tokentap.bench.SloSpec;
import dev.tokentap.bench.Stages;
import dev.tokentap.bench.StepResults;
import dev.tokentap.bench.StreamingClient;
import dev.tokentap.bench.ThinkTime;
import dev.tokentap.bench.Workload;
import dev.tokentap.bench.Workloads;
import dev.tokentap.proxy.admin.AdminServer;
import dev.tokentap.proxy.config.HostAndPort;
import dev.tokentap.proxy.metrics.MetricsClock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tokentap bench}: load-test an OpenAI-compatible endpoint; formulas in docs/bench.md. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Load-test an OpenAI-compatible inference endpoint (closed or open loop) and report TTFT, TPOT, ITL, E2E, throughput and goodput.")
final class BenchCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Mixin BenchTargetOptions where;

  @Option(names = "--model", description = "model name for the requests (default: the first of GET /v1/models)")
  String model;

  @Option(names = "--workload", defaultValue = "synthetic",
      description = "synthetic[:input=LEN,output=LEN,prefix=TOKENS,groups=N] (LEN: N, uniform:MIN:MAX, normal:MEAN:SD, empirical:LEN=WEIGHT:..., hist:PATH), jsonl:PATH, sharegpt:PATH[:turns=first|all] "
          + "trace:PATH (a tokentap capture) or mooncake:PATH (a Mooncake trace) (default: ${DEFAULT-VALUE})")
  String workload;

  @Option(names = "--load", required = true,
      description = "concurrency:N (closed loop), constant:RATE, poisson:RATE or gamma:RATE:BURSTINESS (open loop, requests/s), "
          + "trace[:SPEED] (a trace or mooncake workload's own arrival times, SPEED times as fast), "
          + "stages:LOAD@[WARMUP+]HOLD,… (e.g. stages:poisson:2@30s,4@30s), "
          + "or ramp:LOAD:+STEP|xFACTOR@[WARMUP+]HOLD with LOAD's level as FROM..TO (e.g. ramp:concurrency:1..64:x2@30s)")
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

  @Option(names = "--warmup",
      description = "sent first and left out of the results: N requests, or a time such as 2s (every request sent that soon after the start, "
          + "and at least the first); 0 for none (default: " + BenchWarmup.DEFAULT + "; stages: the first stage's, unless it names one or --stage-warmup is set)")
  String warmup;

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

  @Option(names = "--stage-warmup", description = "stages and ramps: warm-up of each stage that names none, left out of the results; 0 for none "
      + "(default: " + BenchWarmup.DEFAULT + " for the first stage only)")
  String stageWarmup;

  @Option(names = "--peak", description = "capacity sizing after --sweep or stages: the peak to serve, e.g. 40rps or 5000tok/s (output tokens)")
  String peak;

  @Option(names = "--headroom", defaultValue = "0.3", description = "capacity sizing: spare fraction above the peak (default: ${DEFAULT-VALUE})")
  double headroom;

  @Option(names = "--publish-capacity", description = "after --sweep or stages: PUT the knee's in-flight level to this proxy admin URL (/admin/capacity)")
  String publishCapacity;

  @Option(names = "--capacity-target", description = "the proxy target the knee is for (with --publish-capacity and in the printed curl line)")
  String capacityTarget;

  @Option(names = "--metrics", description = "serve the bench's meters (role=\"bench\") on GET /metrics at [HOST:]PORT during the run; "
      + "a bare PORT listens on all interfaces, 0 picks a free port (default: off)")
  String metrics;

  @Option(names = "--max-failure-ratio", defaultValue = "" + FailureGate.DEFAULT_MAX_FAILURE_RATIO,
      description = "exit with status " + Main.RUN_FAILED + " when more than this share of the measured requests failed, or none completed "
          + "(default: ${DEFAULT-VALUE}; 1 accepts any failures but still fails a run with no completed request)")
  double maxFailureRatio;

  @Option(names = "--progress", defaultValue = "5s",
      description = "a progress line on stderr this often (step, time, requests, rate, live TTFT/TPOT p50/p99), or off (default: ${DEFAULT-VALUE})")
  String progress;

  @Option(names = "--think", description = "multi-turn conversations: the user's think time before each later turn, a time (2s) "
      + "or uniform:MIN:MAX (uniform:1s:3s) (default: none, the next turn at once)")
  String think;

  @Option(names = "--session-header", description = "multi-turn conversations: the header carrying each conversation's session id, "
      + "or none (default: " + Sessions.DEFAULT_HEADER + ")")
  String sessionHeader;

  @Option(names = "--shard", description = "run shard I of the run split N ways (I/N, 0-based like Kubernetes' JOB_COMPLETION_INDEX): "
      + "rate/N, concurrency and --requests split, items I, I+N, …; merge the shards' --out with tokentap bench-merge (default: the whole run)")
  String shard;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter stderr = spec.commandLine().getErr();
    Instant startedAt = Instant.now();
    BenchSetup setup = where.setup();
    URI base = setup.targets().get(0);
    boolean ramped = Ramp.isRamp(load);
    boolean staged = ramped || Stages.isStages(load);
    Duration stageWarm = stageWarmup == null ? null : BenchWarmup.stageTime(stageWarmup);
    List<Stages.Stage> stages = !staged ? null
        : ramped ? Ramp.parse(load, maxConcurrency, stageWarm) : Stages.parse(load, maxConcurrency, stageWarm);
    if (staged && stageWarm == null) {
      stages = BenchWarmup.firstStageWarm(stages);
    }
    LoadPlan plan = staged ? stages.get(0).load() : LoadPlan.parse(load, maxConcurrency);
    SloSpec slos = SloSpec.parse(slo);
    Duration window = duration == null ? null : SloSpec.duration("--duration", duration);
    long count = requests != null ? requests : window == null ? 200 : Long.MAX_VALUE;
    if (count < 1) {
      throw new IllegalArgumentException("--requests: " + count + " (expected: >= 1)");
    }
    BenchWarmup warm = BenchWarmup.parse(warmup);
    if (sweep && slos.isEmpty()) {
      throw new IllegalArgumentException("--sweep needs --slo (the constraints the knee is defined by)");
    }
    if (staged && (sweep || requests != null || duration != null || warmup != null)) {
      throw new IllegalArgumentException("--load stages:… (or ramp:…) sets each stage's hold and warm-up; it takes no --sweep, --requests, --duration or --warmup (use LOAD@WARMUP+HOLD or --stage-warmup)");
    }
    if (!staged && stageWarmup != null) {
      throw new IllegalArgumentException("--stage-warmup applies to --load stages:… and ramp:…");
    }
    Shard part = Shard.parse(shard);
    if (part.sharded() && (staged || sweep)) {
      throw new IllegalArgumentException("--shard splits one run: it takes no --sweep or --load stages:…/ramp:…");
    }
    HostAndPort metricsListen = metrics == null ? null : BenchMetricsEndpoint.listen(metrics);
    Duration progressEvery = "off".equalsIgnoreCase(progress.trim()) ? null : SloSpec.duration("--progress", progress.trim());
    if (!(sloTarget > 0 && sloTarget <= 1)) {
      throw new IllegalArgumentException("--slo-target: " + sloTarget + " (expected: 0 < x <= 1)");
    }
    CapacityPlan.Peak peakLoad = peak == null ? null : CapacityPlan.Peak.parse(peak);
    if (!(maxFailureRatio >= 0 && maxFailureRatio <= 1)) {
      throw new IllegalArgumentException("--max-failure-ratio: " + maxFailureRatio + " (expected: 0 <= x <= 1)");
    }
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
    Workload work = Sessions.of(Workloads.parse(workload, modelName, model != null, seed), Sessions.header(sessionHeader), ThinkTime.parse(think), seed);
    double target = slos.isEmpty() ? Double.NaN : sloTarget;
    MeterRegistry registry = metricsListen == null ? new SimpleMeterRegistry(SimpleConfig.DEFAULT, MetricsClock.INSTANCE) : MetricsClock.prometheusRegistry();
    BenchListener listener = metricsListen == null ? BenchListener.NONE : new BenchMetrics(registry);
    try (AdminServer metricsServer = metricsListen == null ? null : BenchMetricsEndpoint.serve(metricsListen, (PrometheusMeterRegistry) registry, stderr);
        BenchProgress progressLine = progressEvery == null ? null
            : new BenchProgress(stderr, progressEvery, BenchProgress.stderrIsTerminal(), progressPlan(stages, window));
        Bench bench = new Bench(setup, slos, registry, timeout, progressLine == null ? listener : BenchListener.of(listener, progressLine))) {
      StepResults results;
      ObjectNode extra = new ObjectMapper().createObjectNode();
      if (staged) {
        results = Stages.run(bench, work, stages, seed, target, stdout);
        results.print(stdout);
      } else if (sweep) {
        results = new KneeSearch(bench, sloTarget, sweepMaxSteps, stdout)
            .search(warm.options(work, plan, count, window, seed));
        results.print(stdout);
      } else {
        BenchRunner.Options whole = warm.options(work, plan, count, window, seed);
        BenchReport report = bench.run(part.options(whole));
        if (part.sharded()) {
          extra.set("shard", part.toJson(whole, report));
        }
        report.printTable(stdout);
        boolean passed = !slos.isEmpty() && report.requests > 0 && report.sloAttainment >= sloTarget;
        results = new StepResults("run", plan.closedLoop() ? "concurrency" : "rate", target,
            List.of(new LoadStep(1, plan.level(), passed, report)));
      }
      if (!results.mode().equals("run")) {
        capacity(results, peakLoad, admin, extra, stdout);
      }
      if (out != null) {
        results.write(out.toPath(), extra, new RunInfo(setup.targetNames(), seed,
            RunInfo.commandLine(spec.commandLine().getParseResult().originalArgs()), startedAt));
        stdout.printf("wrote %s in %s%n", String.join(", ", results.files()), out.toPath());
      }
      String failure = FailureGate.verdict(results, maxFailureRatio);
      if (failure != null) {
        stdout.flush();
        stderr.println("tokentap bench: the run failed: " + failure);
        stderr.flush();
        return Main.RUN_FAILED;
      }
      return 0;
    }
  }

  /** What the progress line counts down: the stages and their times, a sweep's step budget, or one run. */
  private BenchProgress.Plan progressPlan(List<Stages.Stage> stages, Duration window) {
    if (stages != null) {
      Duration total = Duration.ZERO;
      for (Stages.Stage s : stages) {
        total = total.plus(s.hold()).plus(s.warmup() == null ? Duration.ZERO : s.warmup());
      }
      return new BenchProgress.Plan(stages.size(), false, total);
    }
    return sweep ? new BenchProgress.Plan(sweepMaxSteps, true, null) : new BenchProgress.Plan(1, false, window);
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

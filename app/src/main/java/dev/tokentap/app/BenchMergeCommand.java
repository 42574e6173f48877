package dev.tokentap.app;

import dev.tokentap.bench.RunInfo;
import dev.tokentap.bench.ShardMerge;
import dev.tokentap.bench.StepResults;
import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tokentap bench-merge DIR...}: the shards of one {@code tokentap bench --shard I/N} run as one
 * report ({@link ShardMerge}). A verb of its own rather than {@code bench merge}: picocli checks
 * {@code bench}'s required {@code --target} and {@code --load} before it reaches a subcommand.
 */
@Command(
    name = "bench-merge",
    mixinStandardHelpOptions = true,
    description = "Merge the --out directories of the shards of one tokentap bench --shard I/N run into one report, "
        + "its percentiles computed from every shard's per-request records.")
final class BenchMergeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "DIR", description = "the --out directory of each shard (result.json and requests.jsonl)")
  List<Path> dirs;

  @Option(names = "--out", description = "directory for the merged result.json, requests.jsonl, steps.csv and report.html (default: print only)")
  File out;

  @Option(names = "--slo-target", defaultValue = "0.9", description = "attainment the merged run must reach to pass, with SLOs (default: ${DEFAULT-VALUE})")
  double sloTarget;

  @Override
  public Integer call() throws Exception {
    if (!(sloTarget > 0 && sloTarget <= 1)) {
      throw new IllegalArgumentException("--slo-target: " + sloTarget + " (expected: 0 < x <= 1)");
    }
    PrintWriter stdout = spec.commandLine().getOut();
    ShardMerge merge = ShardMerge.read(dirs);
    StepResults results = merge.results(sloTarget);
    results.steps().get(0).report().printTable(stdout);
    if (out != null) {
      RunInfo info = merge.info(RunInfo.commandLine(spec.commandLine().getParseResult().originalArgs()));
      results.write(out.toPath(), merge.extra(), info);
      stdout.printf("merged %d shards; wrote %s in %s%n", dirs.size(), String.join(", ", results.files()), out.toPath());
    }
    stdout.flush();
    return 0;
  }
}

package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Done-means 3 of issue 5: with the realistic profile's step timings, {@code --sweep} on
 * concurrency finds a knee consistent with the emulator's configured capacity (docs/bench.md, "The
 * knee against the emulator").
 *
 * <p>The emulator runs the realistic profile (7 ms + 80 µs per decoding sequence per step, prefill
 * 25,000 tokens/s) with {@code max-num-seqs} lowered from 256 to {@value #SEQS}: 256 streams of
 * 7 ms steps would be about 9,000 events/s on a shared 2-core machine, and the sweep would need
 * ~500 streams to bracket it. Requests are 64 prompt + {@value #OUTPUT} output tokens, so 16 of
 * them reserve 2,048 KV-cache tokens of 420,000: the sequence slots, not the KV budget, bind.
 *
 * <p>The model. A request's service time is its {@value #OUTPUT} steps, {@code T ≥ OUTPUT ×
 * step(S) = 64 × 8.28 ms = 530 ms}. At concurrency {@code C ≤ S} nobody waits for a slot and
 * TTFT is one or two steps (~10-20 ms). At {@code C = S + k} the engine is saturated, the
 * throughput is {@code S / T}, and Little's law gives a mean wait for a slot of {@code W̄ = k·T/S};
 * no request waits more than about {@code T} (the S running ones all finish within it). With the
 * TTFT SLO {@code θ = 100 ms}, {@code r = θ / T ≤ 0.19}, the share of requests missing it is at
 * least {@code (W̄ − θ) / (T − θ) = (k/S − r) / (1 − r)}, which exceeds the 10% a step may miss
 * once {@code k/S > 0.1 + 0.9 r ≤ 0.27}, i.e. from {@code k = 5}. So the knee (the highest passing
 * concurrency) is in {@code [S, S + 4] = [16, 20]}: {@code S} passes with TTFT far below θ, and
 * {@code S + 5} cannot pass whatever the waits' distribution. A slower machine only lengthens
 * {@code T}, which lowers {@code r} and tightens the upper end.
 *
 * <p>In practice the engine admits and finishes requests in cohorts (a closed loop replaces a
 * cohort together), so exactly k of every S requests wait a whole {@code T} and the attainment is
 * {@code 1 − k/S}: the knee is {@code S + floor(0.1 S) = 17}. A run on the loaded 2-core machine
 * measured 100% at 16, 93.8% at 17, 87.5% at 18, 75% at 20 and 50% at 24.
 */
class KneeSweepTest {
  private static final int SEQS = 16;
  private static final int OUTPUT = 64;
  private static final Duration TTFT_SLO = Duration.ofMillis(100);

  @Test
  void theSweepFindsTheKneeAtTheEmulatorsSequenceSlots(@TempDir Path dir) throws Exception {
    EngineProfile profile = EngineProfile.realistic().withMaxNumSeqs(SEQS);
    long stepNanos = profile.stepNanos(SEQS, 0);
    double serviceSeconds = OUTPUT * stepNanos / 1e9;
    double r = TTFT_SLO.toNanos() / 1e9 / serviceSeconds;
    // The first k whose sure miss share exceeds 10%: the knee is below S + k.
    int sureFail = (int) Math.floor(SEQS * (0.1 + 0.9 * r)) + 1;
    assertThat(sureFail).as("the band's upper end, from the model").isEqualTo(5);

    // A sweep the bench itself flags as disturbed (its generator late or CPU-bound) and whose knee
    // falls outside the band is run once more, in the now warm JVM; the second must hold. The
    // sweep's first step (concurrency 8) runs cold: once in CI its requests reached the socket up
    // to 87 ms late and it failed at 81.8 %, and a local run failed it at 75 % then passed.
    Sweep sweep = sweep(profile);
    if (!inBand(sweep.results().highestPassing(), sureFail) && sweep.disturbed()) {
      System.out.println("disturbed sweep, run again:\n" + sweep.shown());
      sweep = sweep(profile);
    }
    StepResults results = sweep.results();
    String shown = sweep.shown();

    LoadStep knee = results.highestPassing();
    assertThat(knee).as(shown).isNotNull();
    assertThat(knee.level()).as("knee in [S, S + %d), found:%n%s", sureFail, shown)
        .isBetween((double) SEQS, (double) SEQS + sureFail - 1);
    assertThat(results.firstFailing().level()).as(shown).isEqualTo(knee.level() + 1);
    assertThat(results.bindingConstraint()).isEqualTo("ttft");
    // The engine cannot serve faster than its slots and steps allow (a step never ends before its
    // modelled time), so the knee's throughput is at most S / T.
    assertThat(knee.report().requestThroughput).as(shown).isLessThanOrEqualTo(SEQS / serviceSeconds * 1.05);

    results.write(dir, null);
    String html = Files.readString(dir.resolve("report.html"));
    assertThat(html).contains("class=\"knee\"").contains("knee: " + StepResults.fmt(knee.level()));
    // Kept for a look (and HtmlReportChromiumTest's kind of check) when run from the module.
    if (Files.isDirectory(Path.of("target"))) {
      Path keep = Files.createDirectories(Path.of("target", "knee-sweep"));
      results.write(keep, null);
      Files.writeString(keep.resolve("sweep.txt"), shown);
    }
  }

  private record Sweep(StepResults results, String shown) {
    boolean disturbed() {
      return results.steps().stream().anyMatch(s -> s.report().generator.late() || s.report().generator.bottleneck());
    }
  }

  private static boolean inBand(LoadStep knee, int sureFail) {
    return knee != null && knee.level() >= SEQS && knee.level() <= SEQS + sureFail - 1;
  }

  private static Sweep sweep(EngineProfile profile) throws Exception {
    StepResults results;
    StringWriter progress = new StringWriter();
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(profile));
        Bench bench = new Bench(emulator.baseUri(), SloSpec.parse("ttft=" + TTFT_SLO.toMillis() + "ms"),
            new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      // Each step: 1 s warm-up (about two service times: the first burst's waits and the JIT stay
      // out), then a 2.5 s window, about four service times and 70 requests at S.
      BenchRunner.Options base = new BenchRunner.Options(
          Workloads.parse("synthetic:input=64,output=" + OUTPUT, "m", 1), LoadPlan.closed(8),
          Long.MAX_VALUE, Duration.ofMillis(2500), 0, 1, Duration.ofSeconds(1));
      results = new KneeSearch(bench, 0.9, 12, new PrintWriter(progress, true)).search(base);
    }
    StringWriter table = new StringWriter();
    results.print(new PrintWriter(table));
    return new Sweep(results, progress + "\n" + table);
  }
}

package dev.tokentap.bench;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;

/**
 * A stage list with a knee whose position does not depend on the machine's speed: an emulator with
 * two sequence slots and 10 ms steps serves 10-token requests in about 100 ms, so at concurrency 1
 * and 2 TTFT is a step or two and meets a 150 ms SLO with room for a loaded machine's hiccups,
 * while at 16 a request waits for a slot about 100 ms per queued pair ahead of it, and about
 * three quarters miss it. Each stage
 * has a warm-up, which also keeps the JIT's first slow requests out.
 */
final class KneeFixture implements AutoCloseable {
  final Emulator emulator;

  KneeFixture() throws Exception {
    emulator = Emulator.start(EmulatorSettings.defaults().withPort(0)
        .withProfile(EngineProfile.fast().withBaseStep(Duration.ofMillis(10)).withMaxNumSeqs(2)));
  }

  StepResults stages() throws Exception {
    try (Bench bench = new Bench(emulator.baseUri(), SloSpec.parse("ttft=150ms,e2e=60s"), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      List<Stages.Stage> stages = Stages.parse("stages:concurrency:1@1s,2@1200ms,16@1500ms", 0, Duration.ofMillis(400));
      return Stages.run(bench, Workloads.parse("synthetic:input=32,output=10", "m", 1), stages, 1, 0.9, null);
    }
  }

  @Override
  public void close() {
    emulator.close();
  }
}

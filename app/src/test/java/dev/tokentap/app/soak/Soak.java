package dev.tokentap.app.soak;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.shadow.ShadowEngine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The soak: an emulator, tokentap in front of it with two failing shadow targets (one refuses every
 * connection, one resets every stream), and {@link SoakLoad}'s clients at a fixed concurrency with
 * faults mixed in, all in this JVM, for a fixed time. Heap (after a GC), direct memory, open file
 * descriptors and the in-flight gauge are sampled as it runs. At the end it checks what
 * docs/reliability.md promises: no leak report, heap and descriptors flat, nothing left in flight,
 * and every request the clients sent counted by the proxy under the outcome the client saw.
 *
 * <pre>
 *   java -cp ... dev.tokentap.app.soak.Soak [--duration 30m] [--streams 1000] [--sample 30s] [--seed 1]
 * </pre>
 *
 * <p>Exit status 0 when every check passed. {@code SoakTest} runs a short version in the build.
 */
public final class Soak {

  /** What to run. */
  public record Config(Duration duration, int streams, Duration sampleEvery, long seed) {}

  /** One sample of the process while the load runs. */
  public record Sample(double seconds, long heapAfterGcBytes, long directBytes, long openFds, double inFlight, double finished) {}

  /** The result: the samples, the counts on both sides, and each check that failed. */
  public record Report(Config config, List<Sample> samples, long sent, Map<String, Long> clientOutcomes, Map<String, Long> proxyOutcomes,
      Map<SoakLoad.Kind, Long> sentByKind, Map<String, Long> shadowCopies, Map<String, Long> upstreamConnections, long unexpected, long fdsBefore, long fdsIdle, long fdsAfter,
      List<String> leaks, List<String> failures) {

    public boolean passed() {
      return failures.isEmpty();
    }

    /** Markdown, as docs/reliability.md shows it. */
    public String markdown() {
      StringBuilder b = new StringBuilder();
      b.append(String.format("Duration %s, %d concurrent streams, seed %d: %d requests sent, %s.%n%n", config.duration(), config.streams(),
          config.seed(), sent, passed() ? "all checks passed" : "FAILED: " + failures));
      b.append("| outcome | client saw | proxy counted |\n|---|---:|---:|\n");
      for (String o : clientOutcomes.keySet()) {
        b.append(String.format("| %s | %d | %d |%n", o, clientOutcomes.get(o), proxyOutcomes.getOrDefault(o, 0L)));
      }
      b.append("\n| request kind (fault) | sent |\n|---|---:|\n");
      sentByKind.forEach((k, v) -> b.append(String.format("| %s | %d |%n", k.name().toLowerCase(), v)));
      b.append("\n| shadow copies (target, result) | count |\n|---|---:|\n");
      shadowCopies.forEach((k, v) -> b.append(String.format("| %s | %d |%n", k, v)));
      b.append("\n| upstream connections (event, reason) | count |\n|---|---:|\n");
      upstreamConnections.forEach((k, v) -> b.append(String.format("| %s | %d |%n", k, v)));
      if (upstreamConnections.isEmpty()) {
        b.append("| none: no connect error, no retry | 0 |\n");
      }
      b.append(String.format("%nOpen file descriptors: %d before the run, %d once the load ended (idle pooled connections"
          + " included), %d after the run closed. Leak reports: %d. Requests whose observation differed from their planned"
          + " fault: %d (counted as observed).%n%n", fdsBefore, fdsIdle, fdsAfter, leaks.size(), unexpected));
      b.append("| t (s) | heap after GC (MiB) | direct (MiB) | open fds | in flight | finished |\n|---:|---:|---:|---:|---:|---:|\n");
      for (Sample s : samples) {
        b.append(String.format("| %.0f | %.1f | %.1f | %d | %.0f | %.0f |%n", s.seconds(), s.heapAfterGcBytes() / 1048576.0,
            s.directBytes() / 1048576.0, s.openFds(), s.inFlight(), s.finished()));
      }
      return b.toString();
    }
  }

  private Soak() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("io.netty.leakDetection.level") == null) {
      // The proxy turns leak detection off unless this flag is set; the soak is there to find leaks.
      System.setProperty("io.netty.leakDetection.level", "simple");
    }
    Duration duration = Duration.ofMinutes(30);
    int streams = 1000;
    Duration sample = Duration.ofSeconds(30);
    long seed = 1;
    String out = null;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--duration" -> duration = parse(args[i + 1]);
        case "--streams" -> streams = Integer.parseInt(args[i + 1]);
        case "--sample" -> sample = parse(args[i + 1]);
        case "--seed" -> seed = Long.parseLong(args[i + 1]);
        case "--out" -> out = args[i + 1];
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (expected: --duration 30m --streams 1000 --sample 30s --seed 1 --out report.md)");
      }
    }
    List<String> leaks = recordLeaks();
    Report report = run(new Config(duration, streams, sample, seed), () -> List.copyOf(leaks));
    String text = report.markdown();
    System.out.println(text);
    if (out != null) {
      java.nio.file.Files.writeString(java.nio.file.Path.of(out), text);
    }
    System.exit(report.passed() ? 0 : 1);
  }

  static Duration parse(String s) {
    return com.typesafe.config.ConfigFactory.parseString("d = " + s).getDuration("d");
  }

  /** Records Netty's leak reports (the level is -Dio.netty.leakDetection.level; main sets simple when absent). */
  static List<String> recordLeaks() {
    List<String> leaks = new CopyOnWriteArrayList<>();
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
      @Override
      @SuppressWarnings("deprecation")
      public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
        return new ResourceLeakDetector<T>(resource, samplingInterval) {
          @Override
          protected void reportTracedLeak(String type, String records) {
            leaks.add(type + records);
            super.reportTracedLeak(type, records);
          }

          @Override
          protected void reportUntracedLeak(String type) {
            leaks.add(type);
            super.reportUntracedLeak(type);
          }
        };
      }
    });
    return leaks;
  }

  /** Runs the soak; {@code leaks} reads the leak reports recorded so far. */
  public static Report run(Config config, Supplier<List<String>> leaks) throws Exception {
    List<String> failures = new ArrayList<>();
    List<Sample> samples = new ArrayList<>();
    int refusedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      refusedPort = s.getLocalPort();
    }
    long fdsBefore = openFds();
    long fdsIdle;
    Map<String, Long> outcomes;
    Map<String, Long> shadow;
    Map<String, Long> connections;
    Map<String, Long> client;
    Map<SoakLoad.Kind, Long> byKind;
    long sent;
    long unexpected;
    List<String> leakReports;
    // Seats and KV cache for every stream: a stream's silences are then the faults' alone. With
    // fewer seats a request waits in the engine's queue after its response head was sent, and a
    // wait past the idle timeout is, rightly, a timeout (the first 30-minute run showed it).
    EngineProfile engine = EngineProfile.realistic().withMaxNumSeqs(config.streams() + 64).withKvCacheTokens(10_000_000);
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(engine))) {
      Settings settings = SettingsLoader.load(SettingsLoader.resolve(null, proxyConfig(emulator.baseUri().toString(), refusedPort)));
      Tokentap tokentap = Tokentap.start(settings, List.of(ShadowEngine.factory(settings.shadow())));
      try {
        MeterRegistry registry = tokentap.registry();
        long startNanos = System.nanoTime();
        long deadline = startNanos + config.duration().toNanos();
        SoakLoad load = new SoakLoad(tokentap.proxyAddress(), config.streams(), deadline, 2);
        load.start(config.seed());
        while (System.nanoTime() < deadline) {
          long wait = Math.min(config.sampleEvery().toNanos(), deadline - System.nanoTime());
          TimeUnit.NANOSECONDS.sleep(Math.max(0, wait));
          samples.add(sample(startNanos, registry));
          System.err.println("soak: " + samples.get(samples.size() - 1));
        }
        // The deadline passed: each slot finishes its request (a stall takes a few seconds) and leaves.
        if (!load.awaitDone(60, TimeUnit.SECONDS)) {
          failures.add("client slots still busy 60 s after the deadline");
        }
        load.close();
        awaitQuiet(registry);
        samples.add(sample(startNanos, registry));
        checkAccounting(load, registry, failures);
        checkFlat(samples, failures);
        fdsIdle = openFds();
        if (inFlight(registry, "primary") != 0 || inFlight(registry, "shadow") != 0) {
          failures.add("requests still in flight after the load: primary " + inFlight(registry, "primary") + ", shadow "
              + inFlight(registry, "shadow"));
        }
        if (emulator.stats().running() + emulator.stats().waiting() != 0) {
          failures.add("the emulator still generates for " + (emulator.stats().running() + emulator.stats().waiting())
              + " requests nobody waits for");
        }
        List<String> leaked = collectLeaks(leaks);
        if (!leaked.isEmpty()) {
          failures.add(leaked.size() + " leak report(s), first: " + leaked.get(0));
        }
        outcomes = proxyOutcomes(registry);
        shadow = shadowCopies(registry);
        connections = upstreamConnections(registry);
        sent = load.sent();
        client = load.outcomes();
        byKind = load.sentByKind();
        unexpected = load.unexpected();
        load.mismatches().forEach((k, v) -> System.err.println("soak: mismatch " + k + ": " + v));
        leakReports = leaked;
      } finally {
        tokentap.close();
      }
    }
    // Everything the run opened is closed with it: descriptors return to where they were.
    long fdsAfter = settledFds(fdsBefore);
    if (fdsAfter > fdsBefore + 16) {
      failures.add("open file descriptors: " + fdsBefore + " before the run, " + fdsAfter + " after it closed");
    }
    return new Report(config, samples, sent, client, outcomes, byKind, shadow, connections, unexpected, fdsBefore, fdsIdle, fdsAfter, leakReports, failures);
  }

  static Map<String, Object> proxyConfig(String upstream, int refusedPort) {
    Map<String, Object> c = new HashMap<>();
    c.put("tokentap.proxy.listen", "127.0.0.1:0");
    c.put("tokentap.admin.listen", "127.0.0.1:0");
    c.put("tokentap.proxy.upstream", upstream);
    c.put("tokentap.proxy.io-threads", 2);
    c.put("tokentap.access-log.enabled", false);
    // Well below SoakLoad.STALL, so a stall is cut; well above any pause of a loaded 2-core machine.
    c.put("tokentap.upstream.idle-timeout", "5s");
    c.put("tokentap.upstream.max-connections-per-loop", 4096);
    Map<String, Object> down = new LinkedHashMap<>();
    down.put("name", "staging-down");
    down.put("upstream", "http://127.0.0.1:" + refusedPort);
    down.put("factor", 0.5);
    down.put("spread-window", "0s");
    Map<String, Object> flaky = new LinkedHashMap<>();
    flaky.put("name", "staging-flaky");
    flaky.put("upstream", upstream);
    flaky.put("factor", 0.1);
    flaky.put("spread-window", "0s");
    flaky.put("set-headers", Map.of("x-emulator-fault", "reset-after=3"));
    c.put("tokentap.shadow.targets", List.of(down, flaky));
    return c;
  }

  private static Sample sample(long startNanos, MeterRegistry registry) {
    System.gc();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    double finished = registry.find("tokentap.requests").tag("role", "primary").counters().stream().mapToDouble(Counter::count).sum();
    return new Sample((System.nanoTime() - startNanos) / 1e9, heap, PlatformDependent.usedDirectMemory(), openFds(),
        inFlight(registry, "primary"), finished);
  }

  private static void awaitQuiet(MeterRegistry registry) throws InterruptedException {
    for (int i = 0; i < 300 && (inFlight(registry, "primary") != 0 || inFlight(registry, "shadow") != 0); i++) {
      Thread.sleep(100);
    }
  }

  /** Every request the clients sent was counted by the proxy, under the outcome the client saw. */
  private static void checkAccounting(SoakLoad load, MeterRegistry registry, List<String> failures) {
    Map<String, Long> client = load.outcomes();
    Map<String, Long> proxy = proxyOutcomes(registry);
    long finished = client.values().stream().mapToLong(Long::longValue).sum();
    if (finished != load.sent()) {
      failures.add("the clients sent " + load.sent() + " requests but saw " + finished + " end");
    }
    for (String outcome : client.keySet()) {
      if (!client.get(outcome).equals(proxy.getOrDefault(outcome, 0L))) {
        failures.add("outcome " + outcome + ": clients saw " + client.get(outcome) + ", the proxy counted " + proxy.getOrDefault(outcome, 0L));
      }
    }
    for (String outcome : proxy.keySet()) {
      if (!client.containsKey(outcome) && proxy.get(outcome) != 0) {
        failures.add("outcome " + outcome + ": the proxy counted " + proxy.get(outcome) + ", clients saw none");
      }
    }
  }

  /**
   * Heap after GC and descriptors do not grow: the late half's peak stays within the early half's
   * peak plus a margin (the first sample, warm-up, is left out).
   */
  private static void checkFlat(List<Sample> samples, List<String> failures) {
    if (samples.size() < 4) {
      return;
    }
    List<Sample> steady = samples.subList(1, samples.size() - 1); // the last one is after the load
    List<Sample> early = steady.subList(0, steady.size() / 2);
    List<Sample> late = steady.subList(steady.size() / 2, steady.size());
    long earlyHeap = early.stream().mapToLong(Sample::heapAfterGcBytes).max().orElse(0);
    long lateHeap = late.stream().mapToLong(Sample::heapAfterGcBytes).max().orElse(0);
    if (lateHeap > earlyHeap * 1.25 + 32 * 1048576L) {
      failures.add(String.format("heap after GC grew: early peak %.1f MiB, late peak %.1f MiB", earlyHeap / 1048576.0, lateHeap / 1048576.0));
    }
    long earlyFds = early.stream().mapToLong(Sample::openFds).max().orElse(0);
    long lateFds = late.stream().mapToLong(Sample::openFds).max().orElse(0);
    if (lateFds > earlyFds * 1.25 + 64) {
      failures.add("open file descriptors grew: early peak " + earlyFds + ", late peak " + lateFds);
    }
  }

  /** Open descriptors once closed connections are gone (a close completes asynchronously). */
  private static long settledFds(long before) throws InterruptedException {
    long fds = openFds();
    for (int i = 0; i < 100 && fds > before + 16; i++) {
      Thread.sleep(100);
      fds = openFds();
    }
    return fds;
  }

  private static List<String> collectLeaks(Supplier<List<String>> leaks) throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
      for (int j = 0; j < 16; j++) {
        io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(16).release();
        io.netty.buffer.ByteBufAllocator.DEFAULT.directBuffer(16).release();
      }
    }
    return leaks.get();
  }

  static long openFds() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      return unix.getOpenFileDescriptorCount();
    }
    return -1;
  }

  static double inFlight(MeterRegistry registry, String role) {
    return registry.find("tokentap.requests.in.flight").tag("role", role).gauges().stream().mapToDouble(Gauge::value).sum();
  }

  static Map<String, Long> proxyOutcomes(MeterRegistry registry) {
    Map<String, Long> m = new LinkedHashMap<>();
    for (Counter c : registry.find("tokentap.requests").tag("role", "primary").counters()) {
      m.merge(c.getId().getTag("outcome"), (long) c.count(), Long::sum);
    }
    return m;
  }

  /** The primary upstream's connect errors and the requests sent again (upstream.retry-unanswered). */
  static Map<String, Long> upstreamConnections(MeterRegistry registry) {
    Map<String, Long> m = new java.util.TreeMap<>();
    for (Counter c : registry.find("tokentap.upstream.connect.errors").counters()) {
      m.merge("connect error, " + c.getId().getTag("reason"), (long) c.count(), Long::sum);
    }
    for (Counter c : registry.find("tokentap.upstream.retries").counters()) {
      m.merge("sent again, " + c.getId().getTag("reason"), (long) c.count(), Long::sum);
    }
    return m;
  }

  static Map<String, Long> shadowCopies(MeterRegistry registry) {
    Map<String, Long> m = new java.util.TreeMap<>();
    for (Counter c : registry.find("tokentap.shadow.copies").counters()) {
      m.merge(c.getId().getTag("target") + ", " + c.getId().getTag("result"), (long) c.count(), Long::sum);
    }
    for (Counter c : registry.find("tokentap.requests").tag("role", "shadow").counters()) {
      m.merge(c.getId().getTag("target") + ", finished " + c.getId().getTag("outcome"), (long) c.count(), Long::sum);
    }
    return m;
  }
}

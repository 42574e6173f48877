package dev.tokentap.app;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.proxy.record.Role;
import dev.tokentap.proxy.tap.RequestTapFactory;
import dev.tokentap.shadow.ShadowEngine;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tokentap demo}: the emulator, the proxy in front of it, a slower staging emulator that
 * gets shadow copies at {@code --staging-factor} times production's load, and a Poisson traffic
 * source, all in this process, with a live summary of what the proxy measures on each side.
 * Nothing external is needed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run emulator + proxy + Poisson traffic (and a shadow staging emulator) and print live token timings.")
final class DemoCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--duration", defaultValue = "60s", description = "how long to run (e.g. 60s, 5m; Ctrl-C ends sooner). Default: ${DEFAULT-VALUE}")
  String duration;

  @Option(names = "--rate", defaultValue = "6", description = "mean requests per second (Poisson arrivals). Default: ${DEFAULT-VALUE}")
  double rate;

  @Option(names = "--listen", defaultValue = "127.0.0.1:8080", description = "proxy address. Default: ${DEFAULT-VALUE}")
  String listen;

  @Option(names = "--admin", defaultValue = "127.0.0.1:9464", description = "admin address (/metrics). Default: ${DEFAULT-VALUE}")
  String admin;

  @Option(names = "--profile", defaultValue = "realistic", description = "emulator timing profile: realistic or fast. Default: ${DEFAULT-VALUE}")
  String profile;

  @Option(names = "--staging-factor", defaultValue = "2",
      description = "shadow copies per production request sent to a staging emulator whose engine steps twice as slowly; 0 for none. Default: ${DEFAULT-VALUE}")
  double stagingFactor;

  @Option(names = "--staging-divergence", defaultValue = "0.2",
      description = "share of the staging emulator's answers that differ from production's (other words, length, a refusal), "
          + "as a different model's would; every request's answers are compared (docs/shadow.md, \"Comparing models\"). Default: ${DEFAULT-VALUE}")
  double stagingDivergence;

  @Option(names = "--report-every", defaultValue = "5s", description = "summary interval. Default: ${DEFAULT-VALUE}")
  String reportEvery;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Duration runFor = parseDuration("--duration", duration);
    Duration every = parseDuration("--report-every", reportEvery);
    if (!(rate > 0)) {
      throw new IllegalArgumentException("--rate: " + rate + " (expected: > 0)");
    }
    if (!(stagingFactor >= 0) || Double.isInfinite(stagingFactor)) {
      throw new IllegalArgumentException("--staging-factor: " + stagingFactor + " (expected: a number >= 0)");
    }
    if (!(stagingDivergence >= 0 && stagingDivergence <= 1)) {
      throw new IllegalArgumentException("--staging-divergence: " + stagingDivergence + " (expected: 0..1)");
    }
    Map<String, Object> emulatorOverrides = new HashMap<>();
    emulatorOverrides.put("tokentap.emulator.port", 0);
    emulatorOverrides.put("tokentap.emulator.profile", profile);
    EmulatorSettings emulatorSettings = EmulatorSettings.fromConfig(SettingsLoader.resolve(null, emulatorOverrides));
    EngineProfile production = emulatorSettings.profile();
    // Staging: the same engine, every decode step twice as long (say, a smaller GPU), and another
    // model: a share of its answers differ.
    EmulatorSettings stagingSettings = emulatorSettings.withProfile(
        production.withBaseStep(production.baseStep().multipliedBy(2)).withPerSequenceStep(production.perSequenceStep().multipliedBy(2)))
        .withDivergence(stagingDivergence);

    try (Emulator emulator = Emulator.start(emulatorSettings);
        Emulator staging = stagingFactor > 0 ? Emulator.start(stagingSettings) : null) {
      Map<String, Object> overrides = new HashMap<>();
      overrides.put("tokentap.proxy.listen", listen);
      overrides.put("tokentap.admin.listen", admin);
      overrides.put("tokentap.proxy.upstream", emulator.baseUri().toString());
      // The demo prints a summary instead of an access-log line per request.
      overrides.put("tokentap.access-log.enabled", false);
      // Requests still streaming when the demo ends get a few seconds to finish, not the default 30.
      overrides.put("tokentap.proxy.shutdown-grace-period", "5s");
      if (staging != null) {
        // Spread over 2 s: at the demo's rates that is long against the gap between requests.
        overrides.put("tokentap.shadow.targets", List.of(Map.of(
            "name", "staging", "upstream", staging.baseUri().toString(), "factor", stagingFactor, "spread-window", "2s")));
        overrides.put("tokentap.shadow.compare.sample", 1);
      }
      Settings settings = SettingsLoader.load(SettingsLoader.resolve(null, overrides));
      List<RequestTapFactory> taps = staging == null ? List.of() : List.of(ShadowEngine.factory(settings.shadow()));
      try (Tokentap tokentap = Tokentap.start(settings, taps)) {
        List<DemoSummary> sides = new ArrayList<>();
        sides.add(new DemoSummary(tokentap, Role.PRIMARY, "production"));
        if (staging != null) {
          sides.add(new DemoSummary(tokentap, Role.SHADOW, "staging"));
        }
        sides.forEach(side -> tokentap.recorder().addListener(side));
        String proxyUrl = "http://" + ProxyCommand.hostPort(tokentap.proxyAddress());
        String adminUrl = "http://" + ProxyCommand.hostPort(tokentap.adminAddress());
        out.printf("tokentap demo: emulator (%s profile) at %s, proxy at %s/v1, metrics at %s/metrics%n",
            emulatorSettings.profile().name(), emulator.baseUri(), proxyUrl, adminUrl);
        if (staging != null) {
          out.printf("shadow: staging emulator (engine steps twice as slow) at %s gets %s copies per request; "
                  + "side by side: curl %s/admin/shadow/summary%n", staging.baseUri(), stagingFactor, adminUrl);
        }
        out.printf("Poisson traffic at %.1f requests/s for %ds; try: curl -N %s/v1/chat/completions -H 'content-type: application/json' "
                + "-d '{\"model\":\"demo\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'%n",
            rate, runFor.toSeconds(), proxyUrl);
        out.println(DemoSummary.HEADER);
        out.flush();
        CountDownLatch interrupted = new CountDownLatch(1);
        Thread hook = new Thread(interrupted::countDown, "demo-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try (PoissonTraffic traffic = new PoissonTraffic(java.net.URI.create(proxyUrl), rate, 42)) {
          traffic.start();
          long end = System.nanoTime() + runFor.toNanos();
          while (System.nanoTime() < end) {
            long wait = Math.min(every.toNanos(), end - System.nanoTime());
            if (interrupted.await(wait, TimeUnit.NANOSECONDS)) {
              break;
            }
            sides.forEach(side -> out.println(side.window()));
            out.flush();
          }
        }
        out.println(DemoSummary.HEADER);
        sides.forEach(side -> out.println(side.total()));
        if (staging != null) {
          out.println(DemoSummary.comparison(adminUrl + "/admin/shadow/summary", stagingDivergence));
        }
        out.flush();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // Ctrl-C: the JVM is already on its way out.
        }
      }
    }
    return 0;
  }

  private static Duration parseDuration(String option, String value) {
    try {
      Duration d = com.typesafe.config.ConfigFactory.parseString("d = " + value).getDuration("d");
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException();
      }
      return d;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(option + ": " + value + " (expected: a duration such as 60s or 5m)");
    }
  }
}

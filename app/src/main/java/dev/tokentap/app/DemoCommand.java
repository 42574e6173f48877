package dev.tokentap.app;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tokentap demo}: the emulator, the proxy in front of it and a Poisson traffic source, all in
 * this process, with a live summary of what the proxy measures. Nothing external is needed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run emulator + proxy + Poisson traffic and print live token timings.")
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
    Map<String, Object> emulatorOverrides = new HashMap<>();
    emulatorOverrides.put("tokentap.emulator.port", 0);
    emulatorOverrides.put("tokentap.emulator.profile", profile);
    EmulatorSettings emulatorSettings = EmulatorSettings.fromConfig(SettingsLoader.resolve(null, emulatorOverrides));

    try (Emulator emulator = Emulator.start(emulatorSettings)) {
      Map<String, Object> overrides = new HashMap<>();
      overrides.put("tokentap.proxy.listen", listen);
      overrides.put("tokentap.admin.listen", admin);
      overrides.put("tokentap.proxy.upstream", emulator.baseUri().toString());
      // The demo prints a summary instead of an access-log line per request.
      overrides.put("tokentap.access-log.enabled", false);
      // Requests still streaming when the demo ends get a few seconds to finish, not the default 30.
      overrides.put("tokentap.proxy.shutdown-grace-period", "5s");
      Settings settings = SettingsLoader.load(SettingsLoader.resolve(null, overrides));
      try (Tokentap tokentap = Tokentap.start(settings)) {
        DemoSummary summary = new DemoSummary(tokentap);
        tokentap.recorder().addListener(summary);
        String proxyUrl = "http://" + ProxyCommand.hostPort(tokentap.proxyAddress());
        out.printf("tokentap demo: emulator (%s profile) at %s, proxy at %s/v1, metrics at http://%s/metrics%n",
            emulatorSettings.profile().name(), emulator.baseUri(), proxyUrl, ProxyCommand.hostPort(tokentap.adminAddress()));
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
            out.println(summary.window());
            out.flush();
          }
        }
        out.println(DemoSummary.HEADER);
        out.println(summary.total());
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

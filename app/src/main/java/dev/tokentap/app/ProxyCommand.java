package dev.tokentap.app;

import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.proxy.relay.Transports;
import java.io.File;
import dev.tokentap.proxy.tap.RequestTapFactory;
import dev.tokentap.shadow.ShadowEngine;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tokentap proxy}: put tokentap in front of an inference server. */
@Command(name = "proxy", mixinStandardHelpOptions = true, description = "Relay client traffic to an inference server and time every token.")
final class ProxyCommand implements Callable<Integer> {
  @Option(names = "--listen", description = "host:port for client traffic (tokentap.proxy.listen, default 127.0.0.1:8080)")
  String listen;

  @Option(names = "--upstream", description = "base URL of the inference server, http:// or https:// (tokentap.proxy.upstream, default http://127.0.0.1:8000)")
  String upstream;

  @Option(names = "--admin", description = "host:port for /metrics, /health, /ready (tokentap.admin.listen, default 127.0.0.1:9464)")
  String admin;

  @Option(names = "--config", description = "HOCON file; keys as in reference.conf")
  File config;

  @Option(names = "--capture", paramLabel = "FILE",
      description = "write a trace of production requests to FILE for `tokentap bench --workload trace:FILE` (tokentap.capture; no prompt text)")
  String capture;

  @Option(names = "--shadow", paramLabel = "NAME=URL[,KEY=VALUE...]",
      description = "mirror traffic to a staging server, e.g. staging=http://10.0.0.7:8000,factor=2.5; KEY is any key of"
          + " tokentap.shadow.defaults (factor, spread-window, model, sample-by, ...). Repeatable; replaces tokentap.shadow.targets")
  List<String> shadow;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    put(overrides, "tokentap.proxy.listen", listen);
    put(overrides, "tokentap.proxy.upstream", upstream);
    put(overrides, "tokentap.admin.listen", admin);
    if (capture != null) {
      overrides.put("tokentap.capture.enabled", true);
      overrides.put("tokentap.capture.file", capture);
    }
    if (shadow != null && !shadow.isEmpty()) {
      overrides.put("tokentap.shadow.targets", shadow.stream().map(ProxyCommand::shadowTarget).toList());
    }
    Settings settings = SettingsLoader.load(SettingsLoader.resolve(config, overrides));
    List<RequestTapFactory> taps =
        settings.shadow().targets().isEmpty() ? List.of() : List.of(ShadowEngine.factory(settings.shadow()));
    Tokentap tokentap = Tokentap.start(settings, taps);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      tokentap.close();
      stopped.countDown();
    }, "tokentap-shutdown"));
    System.err.printf("tokentap proxy (%s): clients -> http://%s, upstream %s, metrics http://%s/metrics%n",
        Transports.name(), hostPort(tokentap.proxyAddress()), settings.proxy().upstream(), hostPort(tokentap.adminAddress()));
    stopped.await();
    return 0;
  }

  static void put(Map<String, Object> overrides, String key, String value) {
    if (value != null) {
      overrides.put(key, value);
    }
  }

  /** {@code name=url,key=value,...} as one {@code tokentap.shadow.targets} entry. */
  static Map<String, Object> shadowTarget(String spec) {
    Map<String, Object> target = new java.util.LinkedHashMap<>();
    String[] parts = spec.split(",");
    for (int i = 0; i < parts.length; i++) {
      int eq = parts[i].indexOf('=');
      if (eq <= 0) {
        throw new dev.tokentap.proxy.config.SettingsException("--shadow " + spec + ": \"" + parts[i] + "\" (expected: NAME=URL first, then KEY=VALUE pairs)");
      }
      String key = parts[i].substring(0, eq).trim();
      String value = parts[i].substring(eq + 1).trim();
      if (i == 0) {
        target.put("name", key);
        target.put("upstream", value);
      } else {
        target.put(key, value);
      }
    }
    return target;
  }

  static String hostPort(java.net.InetSocketAddress a) {
    return a.getHostString() + ":" + a.getPort();
  }
}

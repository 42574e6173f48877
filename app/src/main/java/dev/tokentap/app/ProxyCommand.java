package dev.tokentap.app;

import dev.tokentap.proxy.Tokentap;
import dev.tokentap.proxy.config.Settings;
import dev.tokentap.proxy.config.SettingsLoader;
import dev.tokentap.proxy.relay.Transports;
import java.io.File;
import java.util.HashMap;
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

  @Option(names = "--upstream", description = "base URL of the inference server (tokentap.proxy.upstream, default http://127.0.0.1:8000)")
  String upstream;

  @Option(names = "--admin", description = "host:port for /metrics, /health, /ready (tokentap.admin.listen, default 127.0.0.1:9464)")
  String admin;

  @Option(names = "--config", description = "HOCON file; keys as in reference.conf")
  File config;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    put(overrides, "tokentap.proxy.listen", listen);
    put(overrides, "tokentap.proxy.upstream", upstream);
    put(overrides, "tokentap.admin.listen", admin);
    Settings settings = SettingsLoader.load(SettingsLoader.resolve(config, overrides));
    Tokentap tokentap = Tokentap.start(settings);
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

  static String hostPort(java.net.InetSocketAddress a) {
    return a.getHostString() + ":" + a.getPort();
  }
}

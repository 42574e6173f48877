package dev.tokentap.app;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.proxy.config.HostAndPort;
import dev.tokentap.proxy.config.SettingsLoader;
import java.io.File;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tokentap emulate}: an OpenAI-compatible inference server with a continuous-batching timing model. */
@Command(name = "emulate", mixinStandardHelpOptions = true, description = "Run the emulated inference server (OpenAI-compatible, vLLM-like timing).")
final class EmulateCommand implements Callable<Integer> {
  @Option(names = "--listen", description = "host:port (tokentap.emulator.host/port, default 127.0.0.1:8000)")
  String listen;

  @Option(names = "--profile", description = "timing profile: realistic (about an 8B model on one GPU) or fast (for tests and benchmarks)")
  String profile;

  @Option(names = "--config", description = "HOCON file; keys as in reference.conf (tokentap.emulator)")
  File config;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> overrides = new HashMap<>();
    if (listen != null) {
      HostAndPort address;
      try {
        address = HostAndPort.parse(listen);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--listen: " + listen + " (" + e.getMessage() + ")");
      }
      overrides.put("tokentap.emulator.host", address.host());
      overrides.put("tokentap.emulator.port", address.port());
    }
    ProxyCommand.put(overrides, "tokentap.emulator.profile", profile);
    EmulatorSettings settings = EmulatorSettings.fromConfig(SettingsLoader.resolve(config, overrides));
    Emulator emulator = Emulator.start(settings);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      emulator.close();
      stopped.countDown();
    }, "emulator-shutdown"));
    System.err.printf("tokentap emulator (%s profile) serving %s/v1 (metrics at %s/metrics)%n",
        settings.profile().name(), emulator.baseUri(), emulator.baseUri());
    stopped.await();
    return 0;
  }
}

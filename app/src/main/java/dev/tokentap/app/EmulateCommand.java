package dev.tokentap.app;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.RequestLog;
import dev.tokentap.proxy.config.HostAndPort;
import dev.tokentap.proxy.config.SettingsLoader;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
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

  @Option(names = "--fixed-timing", paramLabel = "FIRST/NEXT", description = "exact timing in place of the engine model: each request's first token FIRST after it arrived, then one every NEXT, e.g. 80ms/12ms (tokentap.emulator.fixed-timing)")
  String fixedTiming;

  @Option(names = "--request-log", paramLabel = "FILE", description = "write one JSON line per finished generation request: route, finish reason, tokens, arrival time, the emulator's own ttft_ms and e2e_ms")
  Path requestLog;

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
    if (fixedTiming != null) {
      String[] parts = fixedTiming.split("/", -1);
      if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
        throw new IllegalArgumentException("--fixed-timing: " + fixedTiming + " (expected: FIRST/NEXT, e.g. 80ms/12ms)");
      }
      overrides.put("tokentap.emulator.fixed-timing.first-token", parts[0].trim());
      overrides.put("tokentap.emulator.fixed-timing.inter-token", parts[1].trim());
    }
    EmulatorSettings settings = EmulatorSettings.fromConfig(SettingsLoader.resolve(config, overrides));
    RequestLog log = requestLog == null ? null : RequestLog.open(requestLog);
    Emulator emulator = Emulator.start(settings);
    if (log != null) {
      emulator.addListener(log);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      emulator.close();
      if (log != null) {
        try {
          log.close();
        } catch (IOException e) {
          System.err.println("--request-log: " + e.getMessage());
        }
      }
      stopped.countDown();
    }, "emulator-shutdown"));
    System.err.printf("tokentap emulator (%s) serving %s/v1 (metrics at %s/metrics)%n",
        settings.timingName(), emulator.baseUri(), emulator.baseUri());
    stopped.await();
    return 0;
  }
}

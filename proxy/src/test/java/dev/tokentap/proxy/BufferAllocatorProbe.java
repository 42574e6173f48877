package dev.tokentap.proxy;

import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.netty.buffer.ByteBufAllocator;
import java.lang.reflect.Field;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Run by {@link BufferAllocatorTest} in a JVM of its own, since Netty picks its allocator once per
 * JVM. {@code netty}: only touches Netty's default allocator (what Netty picks by itself);
 * {@code tokentap KEY=VALUE...}: starts a proxy with those settings, then the emulator behind it,
 * relays one stream, and prints what it found.
 */
public final class BufferAllocatorProbe {
  static final String STREAM =
      "{\"model\":\"m\",\"stream\":true,\"max_tokens\":40,\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private BufferAllocatorProbe() {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("tokentap")) {
      int emulatorPort;
      try (ServerSocket s = new ServerSocket(0)) {
        emulatorPort = s.getLocalPort();
      }
      Map<String, Object> overrides = new HashMap<>(Map.of("tokentap.proxy.warmup-requests", 0));
      for (int i = 1; i < args.length; i++) {
        String[] kv = args[i].split("=", 2);
        overrides.put(kv[0], kv[1]);
      }
      // The proxy first: it must choose the allocator before the emulator's first buffer.
      try (ProxyHarness proxy = new ProxyHarness("http://127.0.0.1:" + emulatorPort, overrides);
          Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(emulatorPort).withProfile(EngineProfile.fast()))) {
        for (int i = 0; i < 3; i++) {
          var response = proxy.post("/v1/chat/completions", STREAM);
          String body = new String(response.body(), StandardCharsets.UTF_8);
          System.out.println("relayed=" + (response.statusCode() == 200 && body.endsWith("data: [DONE]\n\n")));
          System.out.println("outputTokens=" + proxy.next().outputTokens());
        }
      }
    }
    System.out.println("allocator=" + ByteBufAllocator.DEFAULT.getClass().getSimpleName());
    System.out.println("lowMemory=" + lowMemoryMode());
    System.gc(); // let the leak detector see anything left unreleased
    Thread.sleep(200);
    ByteBufAllocator.DEFAULT.directBuffer(1).release(); // a leak is reported on a later allocation
  }

  /** Netty's own flag: whether its adaptive allocator runs in low-memory mode in this JVM. */
  static boolean lowMemoryMode() throws ReflectiveOperationException {
    Field f = Class.forName("io.netty.buffer.AdaptivePoolingAllocator").getDeclaredField("IS_LOW_MEM");
    f.setAccessible(true);
    return f.getBoolean(null);
  }
}

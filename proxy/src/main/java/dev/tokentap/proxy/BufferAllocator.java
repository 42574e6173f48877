package dev.tokentap.proxy;

import io.netty.buffer.ByteBufAllocator;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Netty's buffer allocator from {@code tokentap.proxy.allocator}, chosen before Netty first touches
 * a buffer. Two of Netty's system properties decide it, and a JVM flag giving either wins over the
 * setting, as for {@link LeakDetection}:
 *
 * <ul>
 *   <li>{@code io.netty.allocator.type}: {@code adaptive} (Netty 4.2's default) or {@code pooled};
 *   <li>{@code io.netty.allocator.lowMemory}: Netty turns its adaptive allocator's low-memory mode
 *       on by itself when the heap limit is 512 MiB or less. That mode shares one magazine between
 *       all threads and allocates every buffer over 16.5 KiB afresh (zeroed direct memory freed by
 *       a cleaner), as socket reads often ask: at 10 streams, allocating buffers took 4.6 %
 *       of tokentap's event-loop CPU in that mode and 1.7 % out of it (docs/performance.md, "The
 *       buffer allocator"). Tokentap sets it to false; {@code -Dio.netty.allocator.lowMemory=true}
 *       brings it back.
 * </ul>
 *
 * <p>Both are read once per JVM, when Netty's allocator classes load: in a JVM where something
 * used Netty's buffers before tokentap started (an in-process emulator, a test), the allocator
 * already chosen stays, and a mismatch is logged.
 */
public final class BufferAllocator {
  static final String TYPE = "io.netty.allocator.type";
  static final String LOW_MEMORY = "io.netty.allocator.lowMemory";

  private BufferAllocator() {}

  /** Turns Netty's low-memory mode off unless the JVM flag asks for it; touches no buffer. */
  public static void keepOutOfLowMemoryMode() {
    if (System.getProperty(LOW_MEMORY) == null) {
      System.setProperty(LOW_MEMORY, "false");
    }
  }

  /** @param type adaptive or pooled (checked by the settings loader) */
  static void apply(String type) {
    if (System.getProperty(TYPE) == null) {
      System.setProperty(TYPE, type);
    }
    keepOutOfLowMemoryMode();
    String wanted = System.getProperty(TYPE);
    String inUse = ByteBufAllocator.DEFAULT.getClass().getSimpleName();
    if (!inUse.toLowerCase(Locale.ROOT).startsWith(wanted.toLowerCase(Locale.ROOT))) {
      LoggerFactory.getLogger(BufferAllocator.class)
          .warn("Netty's allocator was chosen before tokentap started in this JVM: {} stays (wanted {})", inUse, wanted);
    }
  }
}

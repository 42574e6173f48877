package dev.tokentap.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked {@link ByteBuf}.
 *
 * <p>Registered for every test through JUnit's extension auto-detection ({@code
 * META-INF/services/org.junit.jupiter.api.extension.Extension}; surefire enables it). It installs a
 * {@link ResourceLeakDetectorFactory} whose detectors record each report, forces the paranoid
 * level, and after the class runs a few GC cycles (leaks are found when a buffer is collected
 * unreleased, and reported on the next tracked allocation) before failing on any report.
 */
public final class LeakDetectorExtension implements BeforeAllCallback, AfterAllCallback {

  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new RecordingFactory());
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    LEAKS.clear();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    for (int i = 0; i < 3 && LEAKS.isEmpty(); i++) {
      System.gc();
      Thread.sleep(50);
      // Leak reports are emitted when the detector is next used: allocate and release tracked buffers.
      for (int j = 0; j < 8; j++) {
        PooledByteBufAllocator.DEFAULT.directBuffer(16).release();
        UnpooledByteBufAllocator.DEFAULT.heapBuffer(16).release();
      }
    }
    if (!LEAKS.isEmpty()) {
      String first = LEAKS.get(0);
      int count = LEAKS.size();
      LEAKS.clear();
      throw new AssertionError(count + " ByteBuf leak report(s) in " + context.getDisplayName() + ":\n" + first);
    }
  }

  /** The leak reports recorded since the current test class started. */
  public static List<String> leaks() {
    return List.copyOf(LEAKS);
  }

  private static final class RecordingFactory extends ResourceLeakDetectorFactory {
    @Override
    @SuppressWarnings("deprecation")
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval, long maxActive) {
      return new ResourceLeakDetector<T>(resource, samplingInterval) {
        @Override
        protected void reportTracedLeak(String resourceType, String records) {
          LEAKS.add("LEAK: " + resourceType + records);
          super.reportTracedLeak(resourceType, records);
        }

        @Override
        protected void reportUntracedLeak(String resourceType) {
          LEAKS.add("LEAK: " + resourceType + " (untraced)");
          super.reportUntracedLeak(resourceType);
        }
      };
    }
  }
}

package dev.tokentap.proxy;

import io.netty.util.ResourceLeakDetector;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Netty's buffer leak detection level from {@code tokentap.proxy.leak-detection}, unless the JVM
 * was started with {@code -Dio.netty.leakDetection.level} (the test suite's paranoid level, or an
 * operator's): that flag wins. The level is global to the JVM, like Netty's own setting.
 */
final class LeakDetection {
  static final String PROPERTY = "io.netty.leakDetection.level";

  private LeakDetection() {}

  /** @param level disabled, simple, advanced or paranoid (checked by the settings loader) */
  static void apply(String level) {
    if (System.getProperty(PROPERTY) != null) {
      return;
    }
    ResourceLeakDetector.Level wanted = ResourceLeakDetector.Level.valueOf(level.toUpperCase(Locale.ROOT));
    if (ResourceLeakDetector.getLevel() != wanted) {
      ResourceLeakDetector.setLevel(wanted);
      LoggerFactory.getLogger(LeakDetection.class).debug("Netty leak detection: {}", wanted);
    }
  }
}

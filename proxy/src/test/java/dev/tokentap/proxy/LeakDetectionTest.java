package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** The configured level applies unless the JVM flag names one (the test suite runs at paranoid). */
class LeakDetectionTest {
  @Test
  void theJvmFlagWinsOverTheSetting() {
    String flag = System.getProperty(LeakDetection.PROPERTY);
    ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
    try {
      System.setProperty(LeakDetection.PROPERTY, "paranoid");
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
      LeakDetection.apply("disabled");
      assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);

      System.clearProperty(LeakDetection.PROPERTY);
      LeakDetection.apply("disabled");
      assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.DISABLED);
      LeakDetection.apply("advanced");
      assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.ADVANCED);
    } finally {
      if (flag == null) {
        System.clearProperty(LeakDetection.PROPERTY);
      } else {
        System.setProperty(LeakDetection.PROPERTY, flag);
      }
      ResourceLeakDetector.setLevel(before);
    }
  }
}

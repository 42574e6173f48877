package dev.tokentap.app.soak;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.testkit.LeakDetectorExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The soak's short version, run by every build: 45 seconds at 100 concurrent streams with every
 * fault of the mix, under the paranoid leak detector. {@code -Dtokentap.soak.duration=30m
 * -Dtokentap.soak.streams=1000} makes it the long one (docs/reliability.md).
 */
class SoakTest {
  @Test
  @Timeout(value = 2, unit = TimeUnit.HOURS) // the run ends itself at its duration; the build's 120 s default is for ordinary tests
  void faultsMixedIntoSustainedLoadLeaveNothingBehindAndEveryRequestIsCounted() throws Exception {
    Soak.Config config = new Soak.Config(
        Soak.parse(System.getProperty("tokentap.soak.duration", "45s")),
        Integer.getInteger("tokentap.soak.streams", 100),
        Soak.parse(System.getProperty("tokentap.soak.sample", "5s")),
        Long.getLong("tokentap.soak.seed", 1));
    Soak.Report report = Soak.run(config, LeakDetectorExtension::leaks);
    System.out.println(report.markdown());
    assertThat(report.failures()).isEmpty();
    assertThat(report.sent()).isPositive();
    assertThat(report.sentByKind()).allSatisfy((kind, n) -> assertThat(n).as(kind.name()).isPositive());
  }
}

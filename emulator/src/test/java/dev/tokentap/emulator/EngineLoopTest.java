package dev.tokentap.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The step loop alone, without sockets: chunked prefill and first-come-first-served admission. */
class EngineLoopTest {

  @Test
  void longPromptIsPrefilledInChunksBeforeItsFirstToken() throws Exception {
    // 8,192 tokens per 10 ms of prefill, 1 ms per step: 20,000 tokens take steps of 11, 11 and 5.4
    // ms.
    EngineProfile profile =
        new EngineProfile("test", Duration.ofMillis(1), Duration.ZERO, 819_200, 8192, 256, 100_000);
    try (EngineLoop engine = new EngineLoop(profile, new EmulatorMetrics("m"))) {
      engine.start();
      Timeline t = new Timeline(3);
      long submitted = System.nanoTime();
      engine.submit(new Sequence(20_000, new int[] {3}, 20_003, -1, 0, t));
      t.await();
      assertThat(t.first - submitted).isGreaterThanOrEqualTo(Duration.ofMillis(27).toNanos());
      // Two decode steps of 1 ms after the prefill's 27.4, bounded from the submission: the first
      // token's stamp may be late by timer slack (0.7 ms once on a loaded machine) that the next
      // step makes up.
      assertThat(t.last - submitted).isGreaterThanOrEqualTo(Duration.ofMillis(29).toNanos());
    }
  }

  @Test
  void theHeadOfTheQueueBlocksSmallerRequestsBehindIt() throws Exception {
    EngineProfile profile =
        new EngineProfile("test", Duration.ofMillis(1), Duration.ZERO, 1_000_000, 8192, 256, 100);
    try (EngineLoop engine = new EngineLoop(profile, new EmulatorMetrics("m"))) {
      engine.start();
      Timeline a = new Timeline(20);
      Timeline b = new Timeline(20);
      Timeline c = new Timeline(5);
      engine.submit(new Sequence(10, new int[] {20}, 60, -1, 0, a));
      engine.submit(new Sequence(10, new int[] {20}, 60, -1, 0, b)); // does not fit beside a
      engine.submit(new Sequence(5, new int[] {5}, 30, -1, 0, c)); // would fit, but b is first
      a.await();
      b.await();
      c.await();
      assertThat(b.first).isGreaterThan(a.last);
      assertThat(c.first).isGreaterThan(a.last);
    }
  }

  /** Times of the first and last output of one sequence, recorded on the engine thread. */
  private static final class Timeline implements Sequence.Listener {
    private final int tokens;
    private final CountDownLatch done = new CountDownLatch(1);
    volatile long first;
    volatile long last;

    Timeline(int tokens) {
      this.tokens = tokens;
    }

    @Override
    public void onOutput(int[] emitted) {
      long now = System.nanoTime();
      if (first == 0) {
        first = now;
      }
      last = now;
      if (emitted[0] == tokens) {
        done.countDown();
      }
    }

    void await() throws InterruptedException {
      assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    }
  }
}

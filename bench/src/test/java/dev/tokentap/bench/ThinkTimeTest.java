package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tokentap.emulator.EmulatedRequest;
import dev.tokentap.emulator.Emulator;
import dev.tokentap.emulator.EmulatorSettings;
import dev.tokentap.emulator.EngineProfile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --think}: a conversation's later turn reaches the emulator no sooner than its think time
 * after the previous turn's last token left the emulator (both on the emulator's clock, in this
 * JVM), in the closed and the open loop; and bad values name the flag.
 */
class ThinkTimeTest {
  /** Conversation c has TURNS[c] turns; its system prompt is 100 c + 1 tokens, so the emulator's count names (c, turn). */
  private static final int[] TURNS = {3, 2, 3, 1};
  private static final ThinkTime THINK = ThinkTime.parse("uniform:150ms:250ms");
  private static final long SEED = 9;
  /** The most a think time may be exceeded by on a loaded machine (the bench's threads, the emulator's step). */
  private static final long SLACK_NANOS = 1_500_000_000L;

  @Test
  void laterTurnsWaitTheirThinkTimeInTheClosedLoop(@TempDir Path dir) throws Exception {
    // Two slots take the four conversations once: 9 turns.
    check(dir, LoadPlan.closed(2), 9, null);
  }

  @Test
  void laterTurnsWaitTheirThinkTimeInTheOpenLoop(@TempDir Path dir) throws Exception {
    // One conversation a second for 3.5 s: the four once, the last (one turn) starting at 3 s.
    check(dir, LoadPlan.open(ArrivalSchedule.Kind.CONSTANT, 1, 1, 0), Long.MAX_VALUE, Duration.ofMillis(3500));
  }

  private static void check(Path dir, LoadPlan load, long requests, Duration window) throws Exception {
    Workload conversations = Sessions.of(Workloads.parse("sharegpt:" + dataset(dir) + ":turns=all", "m", SEED),
        Sessions.DEFAULT_HEADER, THINK, SEED);
    // Both loops send every conversation's turns once (9 turns), or cut the last one short.
    int total = (int) Math.min(requests, java.util.Arrays.stream(TURNS).sum());
    List<EmulatedRequest> served = new CopyOnWriteArrayList<>();
    BenchReport report;
    try (Emulator emulator = Emulator.start(EmulatorSettings.defaults().withPort(0).withProfile(EngineProfile.fast()))) {
      emulator.addListener(served::add);
      try (Bench bench = new Bench(emulator.baseUri(), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
        report = bench.run(new BenchRunner.Options(conversations, load, requests, window, 0, SEED));
      }
    }
    assertThat(report.completed).isEqualTo(total);
    assertThat(served).hasSize(total);
    // Each later turn the emulator served, against the last turn before it of its conversation (the
    // emulator's count of its prompt names both): it arrived a think time after that one's last token.
    int checked = 0;
    for (EmulatedRequest r : served) {
      int conversation = (r.promptTokens() - 7) / 100;
      int turn = (r.promptTokens() - 12 - 100 * conversation) / 10;
      if (turn == 0) {
        continue;
      }
      EmulatedRequest previous = served.stream()
          .filter(p -> p.promptTokens() == r.promptTokens() - 10 && p.arrivalNanos() < r.arrivalNanos())
          .max(java.util.Comparator.comparingLong(EmulatedRequest::arrivalNanos)).orElseThrow();
      long gap = r.arrivalNanos() - previous.lastTokenNanos();
      assertThat(gap).as("conversation %d: from turn %d's last token to turn %d's arrival", conversation, turn - 1, turn)
          .isGreaterThanOrEqualTo(THINK.minNanos()).isLessThan(THINK.maxNanos() + SLACK_NANOS);
      checked++;
    }
    assertThat(checked).isGreaterThanOrEqualTo(4);
    assertThat(report.measured().stream().filter(s -> s.turn() > 0).count()).isEqualTo(checked);
  }

  @Test
  void badThinkTimesAndWorkloadsWithoutTurnsAreRefusedByName() throws Exception {
    assertThat(ThinkTime.parse("2s")).isEqualTo(new ThinkTime(2_000_000_000L, 2_000_000_000L));
    // Each draw is a function of (seed, session, turn), inside the range.
    for (int session = 0; session < 50; session++) {
      long t = THINK.sampleNanos(SEED, session, 1);
      assertThat(t).isBetween(THINK.minNanos(), THINK.maxNanos()).isEqualTo(THINK.sampleNanos(SEED, session, 1));
    }
    assertThat(ThinkTime.parse("0").none()).isTrue();
    assertThat(ThinkTime.parse(null)).isEqualTo(ThinkTime.NONE);
    assertThat(ThinkTime.parse("uniform:1s:3s").describe()).isEqualTo("uniform:1s:3s");
    for (String bad : List.of("soon", "uniform:1s", "uniform:3s:1s", "-1s", "uniform:a:b")) {
      assertThatThrownBy(() -> ThinkTime.parse(bad)).as(bad).hasMessageStartingWith("--think " + bad + " (expected: a time such as 2s, uniform:MIN:MAX");
    }
    Workload synthetic = Workloads.parse("synthetic", "m", 0);
    assertThatThrownBy(() -> Sessions.of(synthetic, Sessions.DEFAULT_HEADER, ThinkTime.parse("1s"), 0))
        .hasMessageContaining("--think 1s is the time between a conversation's turns: it needs a multi-turn workload (sharegpt:PATH:turns=all)");
    assertThat(Sessions.of(synthetic, Sessions.DEFAULT_HEADER, ThinkTime.NONE, 0)).isSameAs(synthetic);
    assertThat(Sessions.header("none")).isNull();
    assertThat(Sessions.header(null)).isEqualTo("X-Session-ID");
    assertThatThrownBy(() -> new Sessions(synthetic, "X Session", ThinkTime.NONE, 0)).hasMessageContaining("--session-header X Session (expected: an HTTP header name");
  }

  /** Conversation c: a system prompt of 100 c + 1 tokens, then TURNS[c] human turns with short replies. */
  private static Path dataset(Path dir) throws Exception {
    StringBuilder json = new StringBuilder("[");
    for (int c = 0; c < TURNS.length; c++) {
      json.append(c == 0 ? "" : ",").append("{\"conversations\":[{\"from\":\"system\",\"value\":\"").append("s".repeat(400 * c + 4)).append("\"}");
      for (int k = 0; k < TURNS[c]; k++) {
        json.append(",{\"from\":\"human\",\"value\":\"").append(c).append(':').append(k).append("\"}")
            .append(",{\"from\":\"gpt\",\"value\":\"abcd\"}");
      }
      json.append("]}");
    }
    Path f = dir.resolve("conversations.json");
    Files.writeString(f, json.append(']').toString());
    return f;
  }
}

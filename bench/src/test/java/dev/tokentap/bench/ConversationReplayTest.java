package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokentap.meter.Outcome;
import dev.tokentap.testkit.ScriptedUpstream;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sharegpt:PATH:turns=all} against a real server that shows what it received: every request
 * carries its conversation's history so far, and a conversation's next turn is sent only after the
 * previous one finished, in the closed and the open loop. The server answers each request with
 * {@code usage.prompt_tokens} naming the (conversation, turn) it saw, so each bench sample can be
 * matched to the request that produced it without relying on timing.
 */
class ConversationReplayTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Conversation {@code c} has {@code TURNS[c]} replied human turns; human turn k says "c:k". */
  private static final int[] TURNS = {3, 2, 1};

  private final List<JsonNode> received = new ArrayList<>();
  /** Every request's session header with the turn it carried: id → "c:k" of each request. */
  private final Map<String, List<String>> sessionTurns = new HashMap<>();
  private Path dataset;

  @BeforeEach
  void writeDataset(@TempDir Path dir) throws Exception {
    StringBuilder json = new StringBuilder("[");
    for (int c = 0; c < TURNS.length; c++) {
      json.append(c == 0 ? "" : ",").append("{\"conversations\":[{\"from\":\"system\",\"value\":\"sys").append(c).append("\"}");
      for (int k = 0; k < TURNS[c]; k++) {
        json.append(",{\"from\":\"human\",\"value\":\"").append(c).append(':').append(k).append("\"}")
            .append(",{\"from\":\"gpt\",\"value\":\"").append(reply(c, k)).append("\"}");
      }
      json.append("]}");
    }
    dataset = dir.resolve("conversations.json");
    Files.writeString(dataset, json.append(']').toString());
  }

  /** The dataset's reply to turn k of conversation c: {@code 4 × (k + 1)} characters, so max_tokens = k + 1. */
  private static String reply(int c, int k) {
    return String.valueOf((char) ('a' + c)).repeat(4 * (k + 1));
  }

  /** Records the body and answers with prompt_tokens = 100 × conversation + turn. */
  private ScriptedUpstream.Script answer(ScriptedUpstream.Received r) {
    try {
      JsonNode body = JSON.readTree(r.body());
      JsonNode messages = body.path("messages");
      String[] ck = messages.path(messages.size() - 1).path("content").asText().split(":");
      synchronized (received) {
        received.add(body);
        sessionTurns.computeIfAbsent(String.valueOf(r.headers().get(Sessions.DEFAULT_HEADER)), id -> new ArrayList<>()).add(ck[0] + ":" + ck[1]);
      }
      int code = 100 * Integer.parseInt(ck[0]) + Integer.parseInt(ck[1]);
      String sse = "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"one \"}}]}\n\n"
          + "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"two\"}}]}\n\n"
          + "data: {\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":" + code
          + ",\"completion_tokens\":2,\"total_tokens\":" + (code + 2) + "}}\n\n"
          + "data: [DONE]\n\n";
      byte[] bytes = sse.getBytes(StandardCharsets.UTF_8);
      // Pieces a millisecond apart: turns of different conversations overlap on the wire.
      return ScriptedUpstream.Script.sse(bytes, new int[] {bytes.length / 3, 2 * bytes.length / 3}, 1_000);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private BenchReport run(LoadPlan load, long requests) throws Exception {
    return run(new BenchRunner.Options(workload(), load, requests, null, 0, 1));
  }

  private BenchReport run(BenchRunner.Options options) throws Exception {
    try (ScriptedUpstream server = new ScriptedUpstream(this::answer);
        Bench bench = new Bench(URI.create(server.baseUrl()), SloSpec.NONE, new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
      return bench.run(options);
    }
  }

  private Workload workload() throws Exception {
    return Sessions.of(Workloads.parse("sharegpt:" + dataset + ":turns=all", "conv-model", 0), Sessions.DEFAULT_HEADER, ThinkTime.NONE, 0);
  }

  @Test
  void closedLoopSlotsReplayEachConversationTurnAfterTurn() throws Exception {
    BenchReport report = run(LoadPlan.closed(2), 20);
    assertThat(report.requests).isEqualTo(20);
    assertThat(report.maxConcurrentRequests).isLessThanOrEqualTo(2);
    checkHistories();
    checkSequencing(report.measured());
  }

  @Test
  void openLoopArrivalsStartConversationsUnderTheCeiling() throws Exception {
    BenchReport report = run(LoadPlan.open(ArrivalSchedule.Kind.CONSTANT, 200, 1, 3), 20);
    // Every turn is one of the 20 requests: fewer than 20 arrivals were needed.
    assertThat(report.requests).isEqualTo(20);
    long arrivals = report.measured().stream().filter(s -> s.turn() == 0).count();
    assertThat(arrivals).isLessThan(20);
    // A conversation keeps its place under the ceiling between turns.
    assertThat(report.measured()).allSatisfy(s -> assertThat(s.inFlightAtSend()).isLessThanOrEqualTo(3));
    // Arrivals keep the absolute schedule, counted from the first.
    List<BenchSample> scheduled = report.measured().stream().filter(s -> s.turn() == 0)
        .sorted(java.util.Comparator.comparingLong(BenchSample::index)).toList();
    for (BenchSample s : scheduled) {
      assertThat(s.startNanos() - scheduled.get(0).startNanos()).isEqualTo((long) (s.index() / 200.0 * 1e9));
    }
    // Rates against the schedule count the arrivals, not the turns they brought.
    assertThat(report.scheduledRequestRate).isCloseTo(200, org.assertj.core.api.Assertions.within(1e-6));
    long firstSend = scheduled.stream().mapToLong(BenchSample::sendNanos).min().orElseThrow();
    long lastSend = scheduled.stream().mapToLong(BenchSample::sendNanos).max().orElseThrow();
    assertThat(report.achievedRequestRate).isEqualTo((scheduled.size() - 1) / ((lastSend - firstSend) / 1e9));
    assertThat(report.generator.scheduleLagMs().count()).isEqualTo(scheduled.size());
    assertThat(report.scheduleLagMs.count()).isEqualTo(scheduled.size());
    checkHistories();
    checkSequencing(report.measured());
  }

  @Test
  void openLoopWarmUpAndDurationApplyToWholeConversations() throws Exception {
    // 2 warm-up arrivals, then a 100 ms window at 100 conversations/s: the run stops by itself.
    BenchReport report = run(new BenchRunner.Options(
        workload(), LoadPlan.open(ArrivalSchedule.Kind.CONSTANT, 100, 1, 0), Long.MAX_VALUE, Duration.ofMillis(100), 2, 1));
    List<BenchSample> all = new ArrayList<>(report.measured());
    assertThat(all).isNotEmpty().allSatisfy(s -> assertThat(s.warmup()).isFalse());
    // Arrivals 0 and 1 (conversations 0 and 1) began in the warm-up: the first measured one is
    // arrival 2, and no later turn is measured without its predecessor (checkSequencing).
    BenchSample firstMeasured = all.stream().filter(s -> s.turn() == 0)
        .min(java.util.Comparator.comparingLong(BenchSample::index)).orElseThrow();
    assertThat(firstMeasured.index()).isEqualTo(2);
    assertThat(firstMeasured.record().inputTokens()).isEqualTo(200);
    assertThat(received).hasSizeGreaterThan(all.size());
    checkHistories(received.size());
    checkSequencing(all);
  }

  /** Every request the server saw carries exactly its conversation's messages up to its turn. */
  private void checkHistories() {
    checkHistories(20);
  }

  private void checkHistories(int requests) {
    assertThat(received).hasSize(requests);
    // A session is one replay of a conversation: its turns carry one id (each turn once), and
    // there are as many ids as first turns, so no two sessions share one.
    assertThat(sessionTurns).doesNotContainKey("null");
    sessionTurns.forEach((id, turns) -> {
      assertThat(turns.stream().map(t -> t.split(":")[0]).distinct()).as("session %s", id).hasSize(1);
      assertThat(turns).as("session %s", id).doesNotHaveDuplicates();
    });
    assertThat(sessionTurns).hasSize((int) received.stream().filter(b -> b.path("messages").size() == 2).count());
    for (JsonNode body : received) {
      JsonNode messages = body.path("messages");
      String[] ck = messages.path(messages.size() - 1).path("content").asText().split(":");
      int c = Integer.parseInt(ck[0]);
      int k = Integer.parseInt(ck[1]);
      List<String> expected = new ArrayList<>(List.of("system:sys" + c));
      for (int j = 0; j < k; j++) {
        expected.add("user:" + c + ":" + j);
        expected.add("assistant:" + reply(c, j));
      }
      expected.add("user:" + c + ":" + k);
      List<String> actual = new ArrayList<>();
      messages.forEach(m -> actual.add(m.path("role").asText() + ":" + m.path("content").asText()));
      assertThat(actual).as("conversation %d turn %d", c, k).isEqualTo(expected);
      assertThat(body.path("max_tokens").asInt()).isEqualTo(k + 1);
      assertThat(body.path("model").asText()).isEqualTo("conv-model");
    }
  }

  /**
   * Each sample's turn is the one the server saw, and a turn k > 0 started only after a turn k − 1
   * of the same conversation had ended; conversations begin at their first turn, in file order.
   */
  private static void checkSequencing(List<BenchSample> samples) {
    Map<Integer, List<BenchSample>> byCode = new HashMap<>();
    for (BenchSample s : samples) {
      assertThat(s.record().outcome()).isEqualTo(Outcome.OK);
      int code = (int) s.record().inputTokens();
      assertThat(s.turn()).isEqualTo(code % 100);
      byCode.computeIfAbsent(code, x -> new ArrayList<>()).add(s);
    }
    for (BenchSample s : samples) {
      int code = (int) s.record().inputTokens();
      if (s.turn() == 0) {
        continue;
      }
      // The k-th later turn of conversation c follows a (k − 1)-th that ended before it started;
      // and no more of them than of their predecessors.
      List<BenchSample> before = byCode.getOrDefault(code - 1, List.of());
      assertThat(before).as("turn %d of conversation %d", s.turn(), code / 100)
          .anySatisfy(p -> assertThat(p.endNanos()).isLessThanOrEqualTo(s.startNanos()));
      assertThat(before.size()).isGreaterThanOrEqualTo(byCode.get(code).size());
    }
    // Conversations are taken in file order, cycling: first turns of …, 1, 2, 0, … (the index is
    // the issue order in the closed loop, the arrival's in the open loop).
    List<Integer> firsts = samples.stream().filter(s -> s.turn() == 0)
        .sorted(java.util.Comparator.comparingLong(BenchSample::index))
        .map(s -> (int) s.record().inputTokens() / 100).toList();
    for (int i = 1; i < firsts.size(); i++) {
      assertThat(firsts.get(i)).isEqualTo((firsts.get(i - 1) + 1) % TURNS.length);
    }
  }
}

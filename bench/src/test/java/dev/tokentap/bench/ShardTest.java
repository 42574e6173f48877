package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --shard I/N}: parsing, and how a run's load, counts, items and seeds split. */
class ShardTest {

  @Test
  void parsesZeroBasedIndexesAndNamesTheOptionOnBadInput() {
    assertThat(Shard.parse("0/4")).isEqualTo(new Shard(0, 4));
    assertThat(Shard.parse(" 3/4 ")).isEqualTo(new Shard(3, 4));
    assertThat(Shard.parse(null)).isEqualTo(Shard.WHOLE);
    assertThat(Shard.WHOLE.sharded()).isFalse();
    for (String bad : List.of("4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", "")) {
      assertThatThrownBy(() -> Shard.parse(bad)).as(bad)
          .hasMessageStartingWith("--shard " + bad)
          .hasMessageContaining("expected: I/N with 0 <= I < N, 0-based like Kubernetes' JOB_COMPLETION_INDEX");
    }
  }

  @Test
  void closedLoopConcurrencyAndRequestCountsSplitAsEvenlyAsPossible() {
    int[] concurrency = IntStream.range(0, 4).map(i -> new Shard(i, 4).load(LoadPlan.closed(10)).concurrency()).toArray();
    assertThat(concurrency).containsExactly(3, 3, 2, 2);
    long[] requests = IntStream.range(0, 3).mapToLong(i -> new Shard(i, 3).part(10, "--requests")).toArray();
    assertThat(requests).containsExactly(4, 3, 3);
    assertThatThrownBy(() -> new Shard(3, 4).load(LoadPlan.closed(3)))
        .hasMessage("--shard 3/4 with concurrency 3: shard 3 would get none (expected: concurrency >= 4, the number of shards)");
    Workload w = syntheticWorkload();
    BenchRunner.Options whole = new BenchRunner.Options(w, LoadPlan.closed(8), 2, null, 0, 1);
    assertThatThrownBy(() -> new Shard(2, 4).options(whole)).hasMessageContaining("--requests 2: shard 2 would get none");
  }

  @Test
  void openLoopRatesDivideWithADistinctSeedPerShardAndTheCeilingSplits() {
    LoadPlan whole = LoadPlan.open(ArrivalSchedule.Kind.POISSON, 40, 1, 10);
    Set<Long> seeds = new HashSet<>();
    for (int i = 0; i < 4; i++) {
      Shard s = new Shard(i, 4);
      LoadPlan part = s.load(whole);
      assertThat(part.rate()).isEqualTo(10);
      assertThat(part.arrivals()).isEqualTo(ArrivalSchedule.Kind.POISSON);
      assertThat(part.concurrency()).isEqualTo(i < 2 ? 3 : 2);
      assertThat(s.offsetNanos(whole)).isZero();
      seeds.add(s.seed(7));
      assertThat(s.seed(7)).isEqualTo(new Shard(i, 4).seed(7));
    }
    assertThat(seeds).hasSize(4).doesNotContain(7L);
    assertThat(Shard.WHOLE.seed(7)).isEqualTo(7);
    // Constant arrivals interleave: shard I starts I / R after shard 0.
    LoadPlan constant = LoadPlan.open(ArrivalSchedule.Kind.CONSTANT, 40, 1, 0);
    assertThat(new Shard(3, 4).offsetNanos(constant)).isEqualTo(75_000_000);
  }

  @Test
  void theShardsTogetherSendTheWholeRunsItemsEachOnce() throws Exception {
    Workload w = syntheticWorkload();
    BenchRunner.Options whole = new BenchRunner.Options(w, LoadPlan.closed(8), 10, Duration.ofSeconds(5), 7, 1, null);
    List<String> sent = new ArrayList<>();
    long requests = 0;
    int warmup = 0;
    for (int i = 0; i < 3; i++) {
      BenchRunner.Options part = new Shard(i, 3).options(whole);
      requests += part.requests();
      warmup += part.warmup();
      assertThat(part.duration()).isEqualTo(whole.duration());
      for (int k = 0; k < part.requests(); k++) {
        sent.add(new String(part.workload().request(k).body()));
      }
    }
    assertThat(requests).isEqualTo(10);
    assertThat(warmup).isEqualTo(7);
    List<String> expected = new ArrayList<>();
    for (int k = 0; k < 10; k++) {
      expected.add(new String(w.request(k).body()));
    }
    assertThat(sent).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(Shard.WHOLE.options(whole)).isSameAs(whole);
  }

  @Test
  void traceShardsKeepEachItemAtItsTimeSoTogetherTheyReplayTheTrace(@TempDir Path dir) throws Exception {
    StringBuilder trace = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      trace.append("{\"timestamp\": ").append(i * i * 10).append(", \"input_length\": ").append(20 + i)
          .append(", \"output_length\": 2, \"hash_ids\": [").append(i % 3).append("]}\n");
    }
    Path file = dir.resolve("trace.jsonl");
    Files.writeString(file, trace.toString());
    Workload w = Workloads.parse("mooncake:" + file, "m", 1);
    // 13 requests: the trace once, then three of its second lap.
    BenchRunner.Options whole = new BenchRunner.Options(w, LoadPlan.parse("trace:2", 0), 13, null, 0, 1);
    List<String> expected = sends(whole);
    List<String> sharded = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      BenchRunner.Options part = new Shard(i, 3).options(whole);
      assertThat(part.load().rate()).as("the speed").isEqualTo(2);
      sharded.addAll(sends(part));
    }
    assertThat(sharded).containsExactlyInAnyOrderElementsOf(expected);
  }

  /** Each request of a run as "intended offset: body". */
  private static List<String> sends(BenchRunner.Options o) {
    ArrivalSchedule schedule = ArrivalSchedule.of(o, o.requests(), Long.MAX_VALUE);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < schedule.size(); i++) {
      out.add(schedule.offsetNanos(i) + ": " + new String(o.workload().request(i).body()));
    }
    return out;
  }

  private static Workload syntheticWorkload() {
    try {
      return Workloads.parse("synthetic:input=uniform:16:64,output=4", "m", 3);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

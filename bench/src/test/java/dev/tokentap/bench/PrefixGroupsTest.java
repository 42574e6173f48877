package dev.tokentap.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Synthetic prefix groups: shared text, exact lengths, group count and balance, bad specs. */
class PrefixGroupsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PREFIX = 50;
  private static final int PREFIX_CHARS = 4 * PREFIX;

  private static String content(BenchRequest r) throws Exception {
    return JSON.readTree(r.body()).path("messages").path(0).path("content").asText();
  }

  /** The emulator's chat rule: ceil(chars / 4) + 4 per message + 2 for the reply header. */
  private static int emulatorInputTokens(String content) {
    return (content.length() + 3) / 4 + 6;
  }

  @Test
  void requestsOfAGroupShareExactlyThePrefixAndDifferAfterIt() throws Exception {
    Workload w = Workloads.parse("synthetic:input=uniform:100:300,output=8,prefix=" + PREFIX + ",groups=8", "m", 11);
    Map<String, List<String>> byPrefix = new HashMap<>();
    for (int i = 0; i < 400; i++) {
      BenchRequest r = w.request(i);
      String content = content(r);
      // Still exactly the sampled input length, prefix included.
      assertThat(emulatorInputTokens(content)).isEqualTo(r.expectedInputTokens()).isBetween(100, 300);
      byPrefix.computeIfAbsent(content.substring(0, PREFIX_CHARS), k -> new ArrayList<>()).add(content.substring(PREFIX_CHARS));
    }
    // 400 requests over 8 groups: every group is used, and no other prefix appears.
    assertThat(byPrefix).hasSize(8);
    for (List<String> rests : byPrefix.values()) {
      // After the shared part each request has words of its own.
      assertThat(rests).doesNotHaveDuplicates();
    }
    // Prefixes of different groups differ from their first words, not just somewhere in the middle.
    assertThat(byPrefix.keySet().stream().map(p -> p.substring(0, 40)).distinct()).hasSize(8);
  }

  @Test
  void groupsAreDrawnUniformlyPerRequest() throws Exception {
    int n = 8000;
    int groups = 4;
    Workload w = Workloads.parse("synthetic:input=80,output=4,prefix=" + PREFIX + ",groups=" + groups, "m", 3);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(content(w.request(i)).substring(0, PREFIX_CHARS), 1, Integer::sum);
    }
    assertThat(counts).hasSize(groups);
    // Each group's count is binomial(n, 1/4): within 5 standard deviations (seeded, so repeatable).
    double p = 1.0 / groups;
    double sd = Math.sqrt(n * p * (1 - p));
    assertThat(counts.values()).allSatisfy(c -> assertThat((double) c).isBetween(n * p - 5 * sd, n * p + 5 * sd));
  }

  @Test
  void groupsAreAFunctionOfTheSeedAndLeaveLengthsAsTheyWere() throws Exception {
    String spec = "synthetic:input=uniform:60:300,output=uniform:4:40";
    Workload plain = Workloads.parse(spec, "m", 5);
    Workload grouped = Workloads.parse(spec + ",prefix=" + PREFIX + ",groups=3", "m", 5);
    for (int i = 0; i < 50; i++) {
      // Adding groups changes the words, not the lengths request i was given.
      assertThat(grouped.request(i).expectedInputTokens()).isEqualTo(plain.request(i).expectedInputTokens());
      assertThat(grouped.request(i).expectedOutputTokens()).isEqualTo(plain.request(i).expectedOutputTokens());
      assertThat(grouped.request(i).body()).isEqualTo(grouped.request(i).body());
    }
    // Without groups=, one prefix for every request (vLLM's --random-prefix-len).
    Workload one = Workloads.parse(spec + ",prefix=" + PREFIX, "m", 5);
    String shared = content(one.request(0)).substring(0, PREFIX_CHARS);
    for (int i = 1; i < 20; i++) {
      assertThat(content(one.request(i))).startsWith(shared);
    }
    // Another seed, other prefixes.
    String other = content(Workloads.parse(spec + ",prefix=" + PREFIX, "m", 6).request(0)).substring(0, PREFIX_CHARS);
    assertThat(other).isNotEqualTo(shared);
    assertThat(one.describe()).contains("prefix=50 tokens shared by each of 1 groups");
  }

  @Test
  void aNormalInputIsRaisedToTheShortestPromptAPrefixAllows() throws Exception {
    // mean 70, sd 40: many samples fall below 50 + 6 + 1 = 57, and are raised to it.
    Workload w = Workloads.parse("synthetic:input=normal:70:40,output=4,prefix=" + PREFIX + ",groups=2", "m", 1);
    int raised = 0;
    for (int i = 0; i < 500; i++) {
      BenchRequest r = w.request(i);
      assertThat(r.expectedInputTokens()).isGreaterThanOrEqualTo(57);
      assertThat(emulatorInputTokens(content(r))).isEqualTo(r.expectedInputTokens());
      raised += r.expectedInputTokens() == 57 ? 1 : 0;
    }
    assertThat(raised).isPositive();
  }

  @Test
  void badSpecs() throws Exception {
    assertThatThrownBy(() -> Workloads.parse("synthetic:input=100,prefix=100", "m", 0))
        .hasMessageContaining("--workload synthetic:input=100,prefix=100: prefix=100 needs every input >= 107 tokens")
        .hasMessageContaining("can be 100");
    // 6 tokens of framing: prefix = input - 6 would leave the request nothing of its own.
    assertThatThrownBy(() -> Workloads.parse("synthetic:input=uniform:56:300,prefix=50", "m", 0))
        .hasMessageContaining("needs every input >= 57").hasMessageContaining("can be 56");
    assertThat(Workloads.parse("synthetic:input=uniform:57:300,prefix=50", "m", 0)).isNotNull();
    assertThatThrownBy(() -> Workloads.parse("synthetic:input=empirical:40=1:400=1,prefix=50", "m", 0)).hasMessageContaining("can be 40");
    assertThatThrownBy(() -> Workloads.parse("synthetic:input=normal:56:5,prefix=50", "m", 0)).hasMessageContaining("has a lower mean");
    assertThatThrownBy(() -> Workloads.parse("synthetic:groups=4", "m", 0)).hasMessageContaining("groups=4 needs prefix=TOKENS");
    assertThatThrownBy(() -> Workloads.parse("synthetic:prefix=10,groups=0", "m", 0)).hasMessageContaining("groups=0 (expected: an integer >= 1)");
    assertThatThrownBy(() -> Workloads.parse("synthetic:prefix=-1", "m", 0)).hasMessageContaining("prefix=-1 (expected: an integer >= 0)");
    assertThatThrownBy(() -> Workloads.parse("synthetic:prefix=lots", "m", 0)).hasMessageContaining("prefix=lots");
  }
}

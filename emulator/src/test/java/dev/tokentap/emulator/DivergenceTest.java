package dev.tokentap.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code divergence}: the share of outputs that differ from a divergence-0 emulator's, and how. */
class DivergenceTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int N = 10_000;
  private static final OutputFormat TOOLS =
      new OutputFormat(List.of(new OutputFormat.Tool("get_weather", List.of("city", "unit")), new OutputFormat.Tool("search", List.of("query"))),
          null);
  private static final OutputFormat JSON_OBJECT = new OutputFormat(List.of(), List.of("answer"));

  @ParameterizedTest
  @ValueSource(doubles = {0, 0.2, 1})
  void theShareThatDiffersIsTheDivergence(double divergence) {
    int diverged = 0;
    int differ = 0;
    for (int i = 0; i < N; i++) {
      OutputPlan same = plan(i, 0, OutputFormat.TEXT);
      OutputPlan other = plan(i, divergence, OutputFormat.TEXT);
      boolean differs = !text(same).equals(text(other)) || same.length() != other.length();
      if (other.divergence() == OutputPlan.Divergence.NONE) {
        assertThat(differs).isFalse();
      } else {
        diverged++;
      }
      if (differs) {
        differ++;
      }
    }
    // Binomial: 4 standard deviations of N draws.
    double sd = Math.sqrt(divergence * (1 - divergence) / N);
    assertThat(diverged / (double) N).isCloseTo(divergence, Offset.offset(4 * sd + 1e-9));
    // A new draw of words may repeat the old one (one word out of 192): almost never.
    assertThat(differ).isBetween((int) (diverged * 0.99), diverged);
  }

  @Test
  void eachKindDiffersInItsOwnWay() {
    Map<OutputPlan.Divergence, Integer> kinds = new EnumMap<>(OutputPlan.Divergence.class);
    for (int i = 0; i < 3000; i++) {
      OutputPlan same = plan(i, 0, OutputFormat.TEXT);
      OutputPlan other = plan(i, 1, OutputFormat.TEXT);
      kinds.merge(other.divergence(), 1, Integer::sum);
      switch (other.divergence()) {
        case WORDS -> assertThat(other.length()).isEqualTo(same.length());
        case LENGTH -> {
          assertThat(other.length()).isNotEqualTo(same.length());
          String shorter = text(other).length() < text(same).length() ? text(other) : text(same);
          assertThat(text(other).length() < text(same).length() ? text(same) : text(other)).startsWith(shorter);
        }
        case REFUSAL -> assertThat(text(other)).isEqualTo("I cannot help with that.");
        default -> throw new AssertionError(other.divergence());
      }
    }
    assertThat(kinds).containsOnlyKeys(OutputPlan.Divergence.WORDS, OutputPlan.Divergence.LENGTH, OutputPlan.Divergence.REFUSAL);
  }

  @Test
  void toolRequestsGetACallWithTheFunctionsKeys() throws Exception {
    int otherCalls = 0;
    for (int i = 0; i < 500; i++) {
      OutputPlan same = plan(i, 0, TOOLS);
      assertThat(same.toolName()).isIn("get_weather", "search");
      assertThat(same.finishReason()).isEqualTo("tool_calls");
      JsonNode args = JSON.readTree(text(same));
      assertThat(args.isObject()).isTrue();
      assertThat(List.copyOf(fieldNames(args))).isEqualTo(same.toolName().equals("search") ? List.of("query") : List.of("city", "unit"));
      OutputPlan other = plan(i, 1, TOOLS);
      if (other.divergence() == OutputPlan.Divergence.TOOL) {
        otherCalls++;
        assertThat(other.toolName()).isNotEqualTo(same.toolName());
      }
    }
    assertThat(otherCalls).isPositive();
  }

  @Test
  void jsonRequestsGetJsonUnlessBroken() throws Exception {
    int broken = 0;
    for (int i = 0; i < 500; i++) {
      assertThat(JSON.readTree(text(plan(i, 0, JSON_OBJECT))).path("answer").isTextual()).isTrue();
      OutputPlan other = plan(i, 1, JSON_OBJECT);
      if (other.divergence() == OutputPlan.Divergence.BROKEN_JSON) {
        broken++;
        assertThat(text(other)).startsWith("{\"answer\":\"").doesNotEndWith("\"}");
      }
    }
    assertThat(broken).isPositive();
  }

  @Test
  void structuredOutputIsCutAtMaxTokens() {
    OutputPlan p = OutputPlan.of(0, null, "p", 0, 3, true, 100, 0, JSON_OBJECT);
    assertThat(p.length()).isEqualTo(3);
    assertThat(p.finishReason()).isEqualTo("length");
  }

  private static OutputPlan plan(int i, double divergence, OutputFormat format) {
    return OutputPlan.of(7, null, "prompt " + i, 0, 1000, false, 24, divergence, format);
  }

  private static java.util.List<String> fieldNames(JsonNode n) {
    java.util.List<String> names = new java.util.ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }

  static String text(OutputPlan p) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < p.length(); i++) {
      sb.append(p.tokenText(i));
    }
    return sb.toString();
  }
}

package dev.tokentap.meter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The outline of a non-streaming JSON body: the same for every split of the body into reads, valid
 * JSON with the fields the dialects read, small whatever the body's size.
 */
class JsonSkeletonTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A chat completion with what makes real ones big: long text with escapes, logprobs, usage last. */
  static final String CHAT =
      "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":"
          + "{\"role\":\"assistant\",\"content\":\"" + "say \\\"hi\\\" \\\\ \\u00e9 é ".repeat(20) + "\"},"
          + "\"logprobs\":{\"content\":[{\"token\":\"a\",\"logprob\":-0.1,\"top_logprobs\":[]}]},"
          + "\"finish_reason\":\"length\"}],\n  \"usage\" : {\"prompt_tokens\":12,\"completion_tokens\":300,"
          + "\"total_tokens\":312,\"prompt_tokens_details\":{\"cached_tokens\":8},"
          + "\"completion_tokens_details\":{\"reasoning_tokens\":5}}}\n";

  static String outline(byte[] body, int[] cuts, int maxBytes) {
    JsonSkeleton skeleton = new JsonSkeleton(maxBytes);
    for (int k = 0; k + 1 < cuts.length; k++) {
      skeleton.append(body, cuts[k], cuts[k + 1] - cuts[k]);
    }
    return skeleton.overflowed() ? null : new String(skeleton.bytes(), 0, skeleton.length(), UTF_8);
  }

  @Test
  void theOutlineKeepsWhatDialectsReadAndIsTheSameAtEverySplit() throws Exception {
    byte[] body = CHAT.getBytes(UTF_8);
    String whole = outline(body, Feeder.whole(body.length), 1 << 20);
    assertThat(whole).isEqualTo(
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{},"
            + "\"logprobs\":{},\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":300,"
            + "\"total_tokens\":312,\"prompt_tokens_details\":{\"cached_tokens\":8},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":5}}}");
    for (int[] cuts : Feeder.allSplits(body.length, 11L, 50)) {
      assertThat(outline(body, cuts, 1 << 20)).as(Feeder.describe(cuts)).isEqualTo(whole);
      MeterResult r = Feeder.feed(new StreamMeter(Api.OPENAI, false, TokenGapListener.NONE, 1 << 20),
          "application/json", body, cuts);
      assertThat(r.outputTokens()).as(Feeder.describe(cuts)).isEqualTo(300);
      assertThat(r.tokenSource()).isEqualTo(TokenSource.USAGE);
      assertThat(r.inputTokens()).isEqualTo(12);
      assertThat(r.cachedInputTokens()).isEqualTo(8);
      assertThat(r.reasoningTokens()).isEqualTo(5);
      assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
      assertThat(r.outcome()).isEqualTo(Outcome.OK);
    }
  }

  @Test
  void longStringsBecomeAPlaceholderWhereverTheirEscapesFall() throws Exception {
    for (int n = JsonSkeleton.MAX_STRING_BYTES - 4; n < JsonSkeleton.MAX_STRING_BYTES + 4; n++) {
      for (String tail : new String[] {"\\\"", "\\\\", "\\\\\\\"", "é"}) {
        String value = "x".repeat(n) + tail + "y";
        String json = "{\"" + value + "\":\"" + value + "\",\"after\":[\"" + tail + "\"]}";
        byte[] body = json.getBytes(UTF_8);
        String whole = outline(body, Feeder.whole(body.length), 1 << 20);
        assertThat(MAPPER.readTree(whole).path("after").get(0).asText())
            .isEqualTo(MAPPER.readTree(json).path("after").get(0).asText());
        int bytes = value.getBytes(UTF_8).length;
        String expectedValue = bytes > JsonSkeleton.MAX_STRING_BYTES ? "~" : MAPPER.readTree("\"" + value + "\"").asText();
        assertThat(MAPPER.readTree(whole).path(expectedValue).asText()).as(json).isEqualTo(expectedValue);
        for (int[] cuts : Feeder.allSplits(body.length, n, 5)) {
          assertThat(outline(body, cuts, 1 << 20)).isEqualTo(whole);
        }
      }
    }
  }

  @Test
  void deepAndLongStructuresAreCutAndTheOutlineStaysValid() throws Exception {
    Random random = new Random(5);
    for (int i = 0; i < 300; i++) {
      ObjectNode tree = randomObject(random, 0);
      tree.putObject("usage").put("prompt_tokens", i).put("completion_tokens", 2 * i);
      byte[] body = MAPPER.writeValueAsBytes(tree);
      String whole = outline(body, Feeder.whole(body.length), 1 << 20);
      JsonNode read = MAPPER.readTree(whole);
      assertThat(read.path("usage").path("completion_tokens").asLong()).isEqualTo(2 * i);
      assertThat(depthOf(read)).isLessThanOrEqualTo(JsonSkeleton.MAX_DEPTH + 1);
      assertThat(outline(body, Feeder.random(body.length, random), 1 << 20)).isEqualTo(whole);
    }
  }

  @Test
  void anArrayKeepsItsFirstElements() throws Exception {
    StringBuilder json = new StringBuilder("{\"data\":[");
    for (int i = 0; i < 1000; i++) {
      json.append(i == 0 ? "" : ",").append("{\"index\":").append(i).append(",\"embedding\":[0.1,0.2,[3]]}");
    }
    json.append("],\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}");
    JsonNode read = MAPPER.readTree(outline(json.toString().getBytes(UTF_8), new int[] {0, json.length()}, 1 << 20));
    assertThat(read.path("data")).hasSize(JsonSkeleton.MAX_ELEMENTS);
    assertThat(read.path("data").get(63).path("embedding")).isEmpty();
    assertThat(read.path("usage").path("prompt_tokens").asInt()).isEqualTo(8);
  }

  @Test
  void aBigBodyWithUsageLastIsReadThroughAnOutlineOfAFewHundredBytes() {
    StringBuilder json = new StringBuilder("{\"choices\":[{\"index\":0,\"message\":{\"content\":\"");
    while (json.length() < 16 << 20) {
      json.append("token ");
    }
    json.append("\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2796203}}");
    byte[] body = json.toString().getBytes(UTF_8);
    JsonSkeleton skeleton = new JsonSkeleton(4 << 20);
    for (int at = 0; at < body.length; at += 8192) {
      skeleton.append(body, at, Math.min(8192, body.length - at));
    }
    assertThat(skeleton.length()).isLessThan(200);
    assertThat(skeleton.bytes().length).isLessThanOrEqualTo(512);
    MeterResult r = Feeder.feed(new StreamMeter(Api.OPENAI, false, TokenGapListener.NONE, 4 << 20),
        "application/json", body, new int[] {0, body.length / 3, body.length});
    assertThat(r.outputTokens()).isEqualTo(2796203);
    assertThat(r.tokenSource()).isEqualTo(TokenSource.USAGE);
    assertThat(r.bodyBytes()).isEqualTo(body.length);
  }

  @Test
  void anOutlinePastItsCapOrInvalidJsonIsUnparsed() {
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i < 10_000; i++) {
      many.append("\"k").append(i).append("\":").append(i).append(',');
    }
    many.append("\"usage\":{\"completion_tokens\":3}}");
    byte[] body = many.toString().getBytes(UTF_8);
    assertThat(outline(body, Feeder.whole(body.length), 1 << 20)).as("past MAX_BYTES").isNull();
    MeterResult tooMany = Feeder.feed(new StreamMeter(Api.OPENAI, false, TokenGapListener.NONE, 1 << 20),
        "application/json", body, Feeder.whole(body.length));
    assertThat(tooMany.tokenSource()).isEqualTo(TokenSource.UNPARSED);

    for (String invalid : new String[] {"{\"usage\":{\"completion_tokens\":3}", "{\"usage\":{\"completion_tokens\":3}]}",
        "{\"usage\":{\"completion_tokens\":3}} x", "<html>Bad Gateway</html>", "   "}) {
      byte[] bytes = invalid.getBytes(UTF_8);
      MeterResult r = Feeder.feed(new StreamMeter(Api.OPENAI, false, TokenGapListener.NONE, 1 << 20),
          "application/json", bytes, Feeder.whole(bytes.length));
      assertThat(r.tokenSource()).as(invalid).isEqualTo(TokenSource.UNPARSED);
    }
  }

  private static ObjectNode randomObject(Random random, int depth) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    int fields = random.nextInt(depth < 2 ? 6 : 3);
    for (int f = 0; f < fields; f++) {
      node.set("f" + f + "\"\\" + "é".repeat(random.nextInt(3)), randomValue(random, depth + 1));
    }
    return node;
  }

  private static JsonNode randomValue(Random random, int depth) {
    int kind = random.nextInt(depth > 6 ? 4 : 6);
    return switch (kind) {
      case 0 -> JsonNodeFactory.instance.numberNode(random.nextGaussian() * 1e6);
      case 1 -> JsonNodeFactory.instance.textNode("s\"\\\u0001é".repeat(random.nextInt(100)));
      case 2 -> JsonNodeFactory.instance.booleanNode(random.nextBoolean());
      case 3 -> JsonNodeFactory.instance.nullNode();
      case 4 -> randomObject(random, depth);
      default -> {
        ArrayNode array = JsonNodeFactory.instance.arrayNode();
        int n = random.nextInt(depth < 2 ? 80 : 3);
        for (int i = 0; i < n; i++) {
          array.add(randomValue(random, depth + 1));
        }
        yield array;
      }
    };
  }

  private static int depthOf(JsonNode node) {
    int max = 0;
    for (JsonNode child : node) {
      max = Math.max(max, depthOf(child));
    }
    return node.isContainerNode() ? max + 1 : 0;
  }
}

package dev.tokentap.meter;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The opt-in output hook: each event's data before the terminator, a JSON body in order, split anywhere. */
class OutputCollectorTest {
  static final String SSE =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" the\"}}]}\n\n"
          + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" model\"},\"finish_reason\":\"stop\"}]}\n\n"
          + "data: [DONE]\n\n"
          + "data: {\"after\":\"the terminator\"}\n\n";
  static final String JSON = "{\"choices\":[{\"index\":0,\"message\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";

  @Test
  void everyEventUpToTheTerminatorAtEverySplit() {
    byte[] bytes = SSE.getBytes(StandardCharsets.UTF_8);
    for (int at = 1; at < bytes.length; at++) {
      Collected c = new Collected();
      StreamMeter meter = meter();
      meter.collectOutput(c);
      meter.onResponseHead(200, "text/event-stream", 1);
      meter.onBody(bytes, 0, at, 2);
      meter.onBody(bytes, at, bytes.length - at, 3);
      meter.onComplete(4);
      assertThat(c.events).as("split at " + at).hasSize(3);
      assertThat(c.events.get(1)).contains("\" model\"");
      assertThat(c.events.get(2)).isEqualTo("[DONE]");
      assertThat(meter.result().outputTokens()).isEqualTo(2);
    }
  }

  @Test
  void aJsonBodyInItsPieces() {
    byte[] bytes = JSON.getBytes(StandardCharsets.UTF_8);
    Collected c = new Collected();
    StreamMeter meter = meter();
    meter.onResponseHead(200, "application/json", 1);
    meter.collectOutput(c);
    for (int i = 0; i < bytes.length; i += 5) {
      meter.onBody(bytes, i, Math.min(5, bytes.length - i), 2);
    }
    meter.onComplete(3);
    assertThat(c.body.toString()).isEqualTo(JSON);
    assertThat(meter.result().outputTokens()).isEqualTo(1);
  }

  @Test
  void aFailingCollectorNeitherBreaksTheMeterNorSeesMore() {
    byte[] bytes = SSE.getBytes(StandardCharsets.UTF_8);
    List<String> seen = new ArrayList<>();
    StreamMeter meter = meter();
    meter.collectOutput(new OutputCollector() {
      @Override
      public void onEvent(byte[] type, int typeLength, byte[] data, int dataLength) {
        seen.add("event");
        throw new IllegalStateException("collector bug");
      }

      @Override
      public void onJsonBody(byte[] b, int offset, int length) {}
    });
    meter.onResponseHead(200, "text/event-stream", 1);
    meter.onBody(bytes, 0, bytes.length, 2);
    meter.onComplete(3);
    assertThat(seen).hasSize(1);
    assertThat(meter.result().outputTokens()).isEqualTo(2);
    assertThat(meter.result().tokenSource()).isEqualTo(TokenSource.EVENTS);
  }

  private static StreamMeter meter() {
    return new StreamMeter(Api.OPENAI, false, new TokenGapListener() {
      @Override
      public void interTokenGap(long gapNanos) {}
    }, 1 << 20);
  }

  private static final class Collected implements OutputCollector {
    final List<String> events = new ArrayList<>();
    final StringBuilder body = new StringBuilder();

    @Override
    public void onEvent(byte[] type, int typeLength, byte[] data, int dataLength) {
      events.add(new String(data, 0, dataLength, StandardCharsets.UTF_8));
    }

    @Override
    public void onJsonBody(byte[] bytes, int offset, int length) {
      body.append(new String(bytes, offset, length, StandardCharsets.UTF_8));
    }
  }
}

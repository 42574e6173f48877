package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.meter.Route;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.OutputObserver;
import dev.tokentap.proxy.tap.RequestTap;
import dev.tokentap.proxy.tap.TappedRequest;
import dev.tokentap.testkit.Fixtures;
import dev.tokentap.testkit.ScriptedUpstream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A request tap gets a copy of each inspected request; a failing tap never touches the relay. */
class RequestTapTest {
  static final byte[] SSE = Fixtures.stream("openai-chat-usage.sse");

  @Test
  void tapsSeeTheRequestAsRelayedAndCannotBreakIt() throws Exception {
    LinkedBlockingQueue<TappedRequest> seen = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<TappedRequest> tooLarge = new LinkedBlockingQueue<>();
    RequestTap recording = new RequestTap() {
      @Override
      public void onRequest(TappedRequest r) {
        seen.add(r);
      }

      @Override
      public void onRequestTooLarge(TappedRequest r) {
        tooLarge.add(r);
      }
    };
    RequestTap failing = r -> {
      throw new IllegalStateException("a broken tap");
    };
    try (ScriptedUpstream upstream = new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[0], 0));
        ProxyHarness h = new ProxyHarness(upstream.baseUrl(), Map.of("tokentap.proxy.max-inspected-request-body", "1KiB"),
            List.of(recorder -> failing, recorder -> recording))) {
      String body = "{\"model\":\"m1\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
      var response = h.post("/v1/chat/completions?x=1", body);
      assertThat(response.statusCode()).isEqualTo(200);
      TappedRequest r = seen.poll(5, TimeUnit.SECONDS);
      assertThat(r).isNotNull();
      assertThat(r.method()).isEqualTo("POST");
      assertThat(r.uri()).isEqualTo("/v1/chat/completions?x=1");
      assertThat(r.route()).isEqualTo(Route.CHAT);
      assertThat(r.model()).isEqualTo("m1");
      assertThat(r.usageInjected()).isTrue();
      assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(new String(upstream.takeRequest().body(), StandardCharsets.UTF_8));
      assertThat(r.headers()).anySatisfy(e -> assertThat(e.getKey()).isEqualToIgnoringCase("content-type"));
      assertThat(r.headers()).noneSatisfy(e -> assertThat(e.getKey()).isEqualToIgnoringCase("connection"));

      String big = "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(4000) + "\"}]}";
      assertThat(h.post("/v1/chat/completions", big).statusCode()).isEqualTo(200);
      TappedRequest large = tooLarge.poll(5, TimeUnit.SECONDS);
      assertThat(large).isNotNull();
      assertThat(large.body()).isNull();
      assertThat(large.bodyLength()).isGreaterThan(1024);
      assertThat(seen).isEmpty();
    }
  }

  @Test
  void aTapThatAsksSeesTheProductionOutputAndTheFinishedRecord() throws Exception {
    LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<FinishedRequest> finished = new LinkedBlockingQueue<>();
    RequestTap watching = new WatchingTap(events, finished);
    try (ScriptedUpstream upstream = new ScriptedUpstream(r -> ScriptedUpstream.Script.sse(SSE, new int[0], 0));
        ProxyHarness h = new ProxyHarness(upstream.baseUrl(), Map.of(), List.of(recorder -> watching))) {
      var response = h.post("/v1/chat/completions", "{\"model\":\"m1\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertThat(response.statusCode()).isEqualTo(200);
      FinishedRequest f = finished.poll(5, TimeUnit.SECONDS);
      assertThat(f).isNotNull();
      assertThat(f.outputTokens()).isPositive();
      assertThat(events).isNotEmpty();
      assertThat(String.join("", events)).contains("\"content\"");
      assertThat(finished).isEmpty(); // exactly once
    }
  }

  /** Asks to see every request's output: its events' data, then the finished record. */
  private record WatchingTap(LinkedBlockingQueue<String> events, LinkedBlockingQueue<FinishedRequest> finished) implements RequestTap, OutputObserver {
    @Override
    public void onRequest(TappedRequest r) {}

    @Override
    public OutputObserver onRequestWatchingOutput(TappedRequest r) {
      return this;
    }

    @Override
    public void onEvent(byte[] type, int typeLength, byte[] data, int dataLength) {
      events.add(new String(data, 0, dataLength, StandardCharsets.UTF_8));
    }

    @Override
    public void onJsonBody(byte[] bytes, int offset, int length) {}

    @Override
    public void onFinished(FinishedRequest f) {
      finished.add(f);
    }
  }
}

package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/**
 * Opt-in ({@code tokentap.shadow.compare.samples.file}): the first {@code max-pairs} differing pairs,
 * one JSON line each, for a human to read: both answers as kept, the request's {@code x-request-id},
 * the scores. The event loops only claim a slot and enqueue; one daemon thread formats and writes.
 * Once {@code max-pairs} were claimed, nothing more is kept. Never on by default: the file holds
 * answers to users' prompts (docs/shadow.md).
 */
final class PairSamples implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Sample(String target, String requestId, PairScores scores, SideOutput production, SideOutput shadow) {}

  private static final Sample POISON = new Sample(null, null, null, null, null);

  private final BufferedWriter out;
  private final int maxPairs;
  private final AtomicInteger claimed = new AtomicInteger();
  private final BlockingQueue<Sample> queue;
  private final Thread writer;

  PairSamples(Path file, int maxPairs) throws IOException {
    this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    this.maxPairs = maxPairs;
    this.queue = new ArrayBlockingQueue<>(maxPairs + 1);
    this.writer = new Thread(this::drain, "tokentap-shadow-samples");
    writer.setDaemon(true);
    writer.start();
  }

  /** A scored pair; kept when its answers differ and a slot is left. Never blocks. */
  void offer(String target, String requestId, PairScores scores, SideOutput production, SideOutput shadow) {
    if (!scores.differs() || claimed.get() >= maxPairs || claimed.incrementAndGet() > maxPairs) {
      return;
    }
    queue.offer(new Sample(target, requestId, scores, production, shadow)); // room for every claimed slot
  }

  private void drain() {
    try {
      for (Sample s = queue.take(); s != POISON; s = queue.take()) {
        try {
          out.write(line(s));
          out.write('\n');
          if (queue.isEmpty()) {
            out.flush();
          }
        } catch (IOException e) {
          LoggerFactory.getLogger(PairSamples.class).warn("shadow compare samples: could not write a pair: {}", e.toString());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String line(Sample s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("time", Instant.now().toString());
    n.put("target", s.target());
    n.put("request_id", s.requestId());
    PairScores p = s.scores();
    n.put("exact_match", p.exactMatch());
    n.put("deterministic", p.deterministic());
    n.put("similarity", Math.round(p.similarity() * 1e4) / 1e4);
    PairStats.number(n, "output_ratio", p.outputRatio());
    n.put("finish_reason_agrees", p.finishReasonAgrees());
    if (p.toolCallsAgree() != null) {
      n.put("tool_calls_agree", p.toolCallsAgree());
    }
    n.set("production", side(s.production(), p.production()));
    n.set("shadow", side(s.shadow(), p.shadow()));
    return n.toString();
  }

  private static ObjectNode side(SideOutput out, PairScores.Side facts) {
    ObjectNode n = JSON.createObjectNode();
    n.put("text", out.text());
    ArrayNode calls = n.putArray("tool_calls");
    for (SideOutput.ToolCall c : out.toolCalls()) {
      calls.addObject().put("name", c.name()).put("arguments", c.arguments().toString());
    }
    n.put("output_tokens", out.outputTokens());
    n.put("finish_reason", out.finishReason() == null ? null : out.finishReason().label());
    n.put("refusal", facts.refusal());
    n.put("json_valid", facts.jsonValid());
    return n;
  }

  @Override
  public void close() throws IOException {
    queue.offer(POISON);
    try {
      writer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    out.close();
  }
}

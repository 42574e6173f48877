package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.proxy.record.CaptureRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Replays a trace captured by the proxy ({@code tokentap.capture}, one {@link CaptureRecord} per
 * line), in arrival order, cycling when the run needs more.
 *
 * <p>Each request is a streaming chat request whose prompt the emulator counts as the captured
 * input tokens (SyntheticWorkload's exact-length construction) and whose {@code max_tokens} is the
 * captured output tokens, with {@code ignore_eos}. Requests of one prefix group begin with the same
 * synthetic text, as long as the captured prefix: a group whose hash covered the whole prompt sent
 * one prompt, so it replays as one identical prompt. A record captured with {@code include-text}
 * replays its original body instead.
 *
 * <p>Arrival times: {@link #schedule} gives the captured offsets, divided by a speed factor, for
 * {@code --load trace[:SPEED]}; with any other load the trace supplies only the requests.
 */
public final class TraceWorkload implements TimedWorkload {
  private static final String MODEL_LABEL_OVERFLOW = "other";

  private final String description;
  private final List<CaptureRecord> records;
  private final TraceArrivals arrivals;
  private final String model;
  private final boolean overrideModel;
  private final long seed;

  private TraceWorkload(String description, List<CaptureRecord> records, String model, boolean overrideModel, long seed) {
    this.description = description;
    this.records = List.copyOf(records);
    this.model = model;
    this.overrideModel = overrideModel;
    this.seed = seed;
    long[] offsetsNanos = new long[records.size()];
    long first = records.get(0).offsetMicros();
    for (int i = 0; i < offsetsNanos.length; i++) {
      offsetsNanos[i] = (records.get(i).offsetMicros() - first) * 1000;
    }
    this.arrivals = new TraceArrivals(offsetsNanos);
  }

  /**
   * Reads a capture; a bad line is named by its number. Blank lines are skipped.
   *
   * @param model used for records whose model is unknown or folded into {@code other}, or for all
   *     of them when {@code overrideModel}
   */
  public static TraceWorkload read(Path file, String model, boolean overrideModel, long seed) throws IOException {
    requireNonNull(model, "model");
    List<CaptureRecord> out = new ArrayList<>(JsonLines.readLines(file, null, CaptureRecord::parse));
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": no records (expected a tokentap capture, one JSON record per line)");
    }
    // Lines are written as requests finish; replay goes by arrival.
    out.sort(Comparator.comparingLong(CaptureRecord::offsetMicros));
    return new TraceWorkload("trace(" + file.getFileName() + ", " + out.size() + " requests)", out, model, overrideModel, seed);
  }

  public int size() {
    return records.size();
  }

  /** Requests/s of the capture as recorded: {@code (n − 1) / (last arrival − first arrival)}. */
  public double capturedRate() {
    return arrivals.rate();
  }

  @Override
  public TraceArrivals arrivals() {
    return arrivals;
  }

  /** The captured arrivals at {@code speed} times their pace ({@link TraceArrivals#schedule}). */
  public ArrivalSchedule schedule(double speed, long maxRequests, long durationNanos) {
    return arrivals.schedule(speed, maxRequests, durationNanos);
  }

  @Override
  public BenchRequest request(long index) {
    CaptureRecord c = records.get((int) (index % records.size()));
    String name = overrideModel || c.model().equals("unknown") || c.model().equals(MODEL_LABEL_OVERFLOW) ? model : c.model();
    if (c.body() instanceof ObjectNode original) {
      ObjectNode body = original.deepCopy();
      if (overrideModel) {
        body.put("model", model);
      }
      return FileWorkload.fromBody(body, name, description + " record " + index);
    }
    int in = inputTokens(c);
    int out = (int) Math.max(1, c.outputTokens());
    return SyntheticWorkload.chatRequest(name, prompt(c, in, index), in, out);
  }

  /** The captured prompt tokens; without them (no usage), an estimate from the body's size. */
  private static int inputTokens(CaptureRecord c) {
    long tokens = c.inputTokens() >= 0 ? c.inputTokens() : c.requestBytes() / SyntheticWorkload.CHARS_PER_TOKEN;
    return (int) Math.min(Integer.MAX_VALUE / 8, Math.max(1, tokens));
  }

  /**
   * The group's text for the captured prefix length (all of it when the hash covered the whole
   * prompt), then words of this request's own.
   */
  private String prompt(CaptureRecord c, int inputTokens, long index) {
    int chars = SyntheticWorkload.promptChars(inputTokens);
    Random own = new Random(seed * 0x9E3779B97F4A7C15L + index);
    if (c.prefixHash() == null) {
      return SyntheticWorkload.text(chars, own);
    }
    Random group = new Random(groupSeed(c.prefixHash()) ^ seed);
    int shared = c.prefixWhole() ? chars : Math.min(chars, c.prefixChars());
    return SyntheticWorkload.text(shared, group) + SyntheticWorkload.text(chars - shared, own);
  }

  private static long groupSeed(String hash) {
    if (hash.matches("[0-9a-fA-F]{1,16}")) {
      return Long.parseUnsignedLong(hash, 16);
    }
    return hash.hashCode() * 0x9E3779B97F4A7C15L; // not a capture's own hash: still one seed per group
  }

  @Override
  public String describe() {
    return description;
  }
}

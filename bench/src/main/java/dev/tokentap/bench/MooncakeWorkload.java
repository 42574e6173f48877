package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A trace in Mooncake's format ({@code kvcache-ai/Mooncake}, {@code FAST25-release/traces}; also
 * what vLLM's {@code timed_trace} dataset and AIPerf's {@code --fixed-schedule} read): one JSON
 * object per line,
 *
 * <pre>{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]}</pre>
 *
 * with {@code timestamp} the arrival in ms, and {@code hash_ids} one id per {@value #BLOCK_TOKENS}-token
 * block of the prompt: two requests with the same id at the same position share that block (and, as
 * a block's hash covers everything before it, the whole prefix up to it).
 *
 * <p>Each line becomes a streaming chat request of exactly {@code input_length} prompt tokens by the
 * emulator's rule and {@code max_tokens = output_length} with {@code ignore_eos} (SyntheticWorkload's
 * construction). Block {@code k} of the prompt is the text of its hash id: {@value #BLOCK_TOKENS} × 4
 * characters of words drawn from a generator seeded by the run's seed and the id alone, so the same
 * id gives the same text and a server's prefix cache sees the trace's reuse. The 6 tokens of chat
 * framing count in {@code input_length}, so the last block is cut short by them (and by a partial last
 * block); a prompt longer than its blocks is completed with words of its own. The timestamps are the
 * arrival times of {@code --load trace[:SPEED]}.
 */
public final class MooncakeWorkload implements TimedWorkload {
  /** Tokens per hash id, as Mooncake's traces are hashed. */
  public static final int BLOCK_TOKENS = 512;

  private static final String EXPECTED =
      "expected: a Mooncake trace line, {\"timestamp\": MS, \"input_length\": N, \"output_length\": N, \"hash_ids\": [ID, ...]}";
  /** Salt so block texts differ from the synthetic workload's request texts of the same seed. */
  private static final long BLOCK_SALT = 0x6D6F6F6E63616B65L;

  /** One line: arrival in ms, lengths in tokens, block ids. */
  record Line(long timestampMillis, int inputLength, int outputLength, long[] hashIds) {}

  private final String description;
  private final List<Line> lines;
  private final TraceArrivals arrivals;
  private final String model;
  private final long seed;

  private MooncakeWorkload(String description, List<Line> lines, String model, long seed) {
    this.description = description;
    this.lines = List.copyOf(lines);
    this.model = requireNonNull(model, "model");
    this.seed = seed;
    long[] offsets = new long[lines.size()];
    long first = lines.get(0).timestampMillis();
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = (lines.get(i).timestampMillis() - first) * 1_000_000;
    }
    this.arrivals = new TraceArrivals(offsets);
  }

  /** Reads a trace; a bad line is named by its number, blank lines are skipped, lines are replayed in timestamp order. */
  public static MooncakeWorkload read(Path file, String model, long seed) throws IOException {
    List<Line> out = new ArrayList<>(JsonLines.read(file, EXPECTED, MooncakeWorkload::parse));
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": no requests (" + EXPECTED + ")");
    }
    out.sort(Comparator.comparingLong(Line::timestampMillis));
    return new MooncakeWorkload("mooncake(" + file.getFileName() + ", " + out.size() + " requests)", out, model, seed);
  }

  private static Line parse(JsonNode n) {
    if (!n.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    long timestamp = whole(n, "timestamp", 0, Long.MAX_VALUE / 1_000_000);
    int input = (int) whole(n, "input_length", 1, Integer.MAX_VALUE / 8);
    int output = (int) whole(n, "output_length", 1, Integer.MAX_VALUE);
    JsonNode ids = n.path("hash_ids");
    long[] hashIds = new long[ids.size()];
    if (!ids.isMissingNode() && !ids.isArray()) {
      throw new IllegalArgumentException("hash_ids " + ids + " is not an array");
    }
    for (int i = 0; i < hashIds.length; i++) {
      if (!ids.get(i).canConvertToLong() || !ids.get(i).isIntegralNumber()) {
        throw new IllegalArgumentException("hash_ids[" + i + "] " + ids.get(i) + " is not an integer");
      }
      hashIds[i] = ids.get(i).asLong();
    }
    return new Line(timestamp, input, output, hashIds);
  }

  private static long whole(JsonNode n, String key, long min, long max) {
    JsonNode v = n.get(key);
    if (v == null) {
      throw new IllegalArgumentException(key + " missing");
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
      throw new IllegalArgumentException(key + " " + v + " is not a whole number in [" + min + ", " + max + "]");
    }
    return v.asLong();
  }

  public int size() {
    return lines.size();
  }

  @Override
  public TraceArrivals arrivals() {
    return arrivals;
  }

  @Override
  public BenchRequest request(long index) {
    Line line = lines.get((int) (index % lines.size()));
    return SyntheticWorkload.chatRequest(model, prompt(line, index), line.inputLength(), line.outputLength());
  }

  /** The blocks' texts in order, cut to the prompt's length or completed with the request's own words. */
  private String prompt(Line line, long index) {
    int chars = SyntheticWorkload.promptChars(line.inputLength());
    int blockChars = BLOCK_TOKENS * SyntheticWorkload.CHARS_PER_TOKEN;
    StringBuilder sb = new StringBuilder(chars);
    for (int k = 0; k < line.hashIds().length && sb.length() < chars; k++) {
      sb.append(SyntheticWorkload.text(Math.min(blockChars, chars - sb.length()),
          SyntheticWorkload.requestRandom(seed ^ BLOCK_SALT, line.hashIds()[k])));
    }
    if (sb.length() < chars) {
      sb.append(SyntheticWorkload.text(chars - sb.length(), SyntheticWorkload.requestRandom(seed, index)));
    }
    return sb.toString();
  }

  @Override
  public String describe() {
    return description;
  }
}

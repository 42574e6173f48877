package dev.tokentap.bench;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.meter.Route;
import java.util.Random;

/**
 * Chat requests whose prompt and output lengths follow two {@link LengthDistribution}s. The prompt
 * is random words sized by the emulator's documented rule (PromptTokenEstimator: a chat message
 * costs {@code ceil(chars / 4) + 4} tokens, plus 2 for the reply header), so a server with a real
 * tokenizer sees roughly, and the emulator exactly, the intended input length. Like vLLM's random
 * dataset, it sets {@code ignore_eos} so the output length is {@code max_tokens}.
 *
 * <p>Prefix groups: with {@code prefixTokens > 0}, each request belongs to one of {@code groups}
 * groups, drawn uniformly from the request's own generator (AIPerf picks each request's prefix at
 * random from its {@code --prefix-prompt-pool-size} pool), and its prompt begins with the group's
 * fixed text of {@code prefixTokens} tokens (4 characters each), then words of its own. Unlike
 * vLLM's {@code --random-prefix-len} and AIPerf's {@code --prefix-prompt-length}, which add the
 * prefix to the input length, the prefix is part of {@code input}: the prompt stays exactly the
 * sampled input length, so the input distribution means the same with or without groups. Every
 * input must leave at least one token of the request's own after the prefix and the 6 tokens of
 * chat framing; a normal input is clamped to that floor, the other forms must not go below it.
 */
public final class SyntheticWorkload implements Workload {
  static final int CHARS_PER_TOKEN = 4;
  /** One user message's framing plus the assistant reply header (PromptTokenEstimator). */
  static final int CHAT_OVERHEAD_TOKENS = 4 + 2;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] WORDS = {
    "the", "model", "token", "batch", "cache", "queue", "stream", "prefill", "decode", "latency",
    "server", "request", "river", "stone", "light", "paper", "garden", "window", "signal", "orbit"
  };

  private final String model;
  private final LengthDistribution input;
  private final LengthDistribution output;
  private final int prefixTokens;
  private final int groups;
  /** The smallest input: {@code prefix + framing + 1} with a prefix (normal inputs are raised to it). */
  private final int minInput;
  private final long seed;

  public SyntheticWorkload(String model, LengthDistribution input, LengthDistribution output, long seed) {
    this(model, input, output, 0, 0, seed);
  }

  /**
   * @param prefixTokens shared prefix per group, in tokens; 0 for none
   * @param groups number of prefix groups, at least 1 with a prefix (0 or 1 without)
   */
  public SyntheticWorkload(
      String model, LengthDistribution input, LengthDistribution output, int prefixTokens, int groups, long seed) {
    this.model = requireNonNull(model, "model");
    this.input = requireNonNull(input, "input");
    this.output = requireNonNull(output, "output");
    if (prefixTokens < 0) {
      throw new IllegalArgumentException("prefix=" + prefixTokens + " (expected: tokens >= 0)");
    }
    if (prefixTokens == 0 && groups > 1) {
      throw new IllegalArgumentException("groups=" + groups + " needs prefix=TOKENS (the text each group shares)");
    }
    if (prefixTokens > 0 && groups < 1) {
      throw new IllegalArgumentException("groups=" + groups + " (expected: >= 1)");
    }
    this.prefixTokens = prefixTokens;
    this.groups = prefixTokens == 0 ? 0 : groups;
    this.minInput = prefixTokens == 0 ? 1 : prefixTokens + CHAT_OVERHEAD_TOKENS + 1;
    boolean tooShort = input instanceof LengthDistribution.Normal n ? n.mean() < minInput : input.min() < minInput;
    if (prefixTokens > 0 && tooShort) {
      throw new IllegalArgumentException("prefix=" + prefixTokens + " needs every input >= " + minInput
          + " tokens (the prefix, " + CHAT_OVERHEAD_TOKENS + " of chat framing and at least 1 of the request's own), but input "
          + input + (input instanceof LengthDistribution.Normal ? " has a lower mean" : " can be " + input.min()));
    }
    this.seed = seed;
  }

  @Override
  public BenchRequest request(long index) {
    // One generator per index: request i is the same whatever order requests are made in.
    Random random = requestRandom(seed, index);
    int in = Math.max(minInput, input.sample(random));
    int out = output.sample(random);
    // Drawn after the lengths, so a workload without groups makes the same requests as before.
    String content = groups == 0 ? prompt(in, random) : groupPrompt(random.nextInt(groups), in, random);
    return chatRequest(model, content, in, out);
  }

  /**
   * A streaming chat request of one user message that asks for exactly {@code outputTokens}
   * ({@code max_tokens} with {@code ignore_eos}, as vLLM's random dataset), with usage; {@code
   * content} is built for {@code inputTokens} (synthetic and trace workloads alike).
   */
  static BenchRequest chatRequest(String model, String content, int inputTokens, int outputTokens) {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", model);
    body.putArray("messages").addObject().put("role", "user").put("content", content);
    body.put("max_tokens", outputTokens);
    body.put("ignore_eos", true);
    body.put("stream", true);
    body.putObject("stream_options").put("include_usage", true);
    return new BenchRequest("/v1/chat/completions", Route.CHAT, model, Workloads.bytes(body),
        Math.max(inputTokens, CHAT_OVERHEAD_TOKENS + 1), outputTokens);
  }

  /**
   * The generator of request {@code index}. Its seed goes through SplitMix64's finalizer first:
   * {@code java.util.Random} seeded with consecutive values gives strongly correlated first draws
   * (seeds {@code k} apart start {@code k × 0x5DEECE66D} apart in its 48-bit state), which skewed
   * a 70% histogram entry to 69.0% over 100,000 requests and left one of 4 prefix groups empty.
   */
  static Random requestRandom(long seed, long index) {
    long z = seed * 0x9E3779B97F4A7C15L + index;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return new Random(z ^ (z >>> 31));
  }

  /**
   * The group's text of {@code 4 × prefixTokens} characters (the same for every request of the
   * group: its own generator, seeded by the run's seed and the group), then the request's own
   * words; as TraceWorkload builds a captured prefix group.
   */
  private String groupPrompt(int group, int tokens, Random own) {
    int chars = promptChars(tokens);
    int shared = CHARS_PER_TOKEN * prefixTokens;
    Random groupWords = new Random(seed * 0x9E3779B97F4A7C15L ^ (group + 1) * 0xC2B2AE3D27D4EB4FL);
    return text(shared, groupWords) + text(chars - shared, own);
  }

  /** Text of exactly {@code 4 × (tokens − overhead)} characters (at least 4). */
  static String prompt(int tokens, Random random) {
    return text(promptChars(tokens), random);
  }

  /** Characters of a one-message chat prompt that the emulator counts as {@code tokens} input tokens. */
  static int promptChars(int tokens) {
    return CHARS_PER_TOKEN * Math.max(1, tokens - CHAT_OVERHEAD_TOKENS);
  }

  /**
   * Random words, exactly {@code chars} characters: the first {@code chars} of one endless stream
   * of words, so the same generator state gives texts that are prefixes of each other.
   */
  static String text(int chars, Random random) {
    StringBuilder sb = new StringBuilder(chars + 16);
    while (sb.length() < chars) {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(WORDS[random.nextInt(WORDS.length)]);
    }
    sb.setLength(chars);
    return sb.toString();
  }

  @Override
  public String describe() {
    return "synthetic(input=" + input + ", output=" + output
        + (groups == 0 ? "" : ", prefix=" + prefixTokens + " tokens shared by each of " + groups + " groups") + ")";
  }
}

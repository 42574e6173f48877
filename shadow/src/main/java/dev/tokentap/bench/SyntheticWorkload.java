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
  private final long seed;

  public SyntheticWorkload(String model, LengthDistribution input, LengthDistribution output, long seed) {
    this.model = requireNonNull(model, "model");
    this.input = requireNonNull(input, "input");
    this.output = requireNonNull(output, "output");
    this.seed = seed;
  }

  @Override
  public BenchRequest request(long index) {
    // One generator per index: request i is the same whatever order requests are made in.
    Random random = new Random(seed * 0x9E3779B97F4A7C15L + index);
    int in = input.sample(random);
    int out = output.sample(random);
    ObjectNode body = JSON.createObjectNode();
    body.put("model", model);
    body.putArray("messages").addObject().put("role", "user").put("content", prompt(in, random));
    body.put("max_tokens", out);
    body.put("ignore_eos", true);
    body.put("stream", true);
    body.putObject("stream_options").put("include_usage", true);
    return new BenchRequest(
        "/v1/chat/completions", Route.CHAT, model, Workloads.bytes(body), Math.max(in, CHAT_OVERHEAD_TOKENS + 1), out);
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
    return "synthetic(input=" + input + ", output=" + output + ")";
  }
}

package dev.tokentap.emulator;

import static dev.tokentap.emulator.EngineProfile.checkArgument;
import static java.util.Objects.requireNonNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.util.function.Consumer;

/**
 * Everything the emulator reads from {@code tokentap.emulator} (documented key by key in its {@code
 * reference.conf}), read and checked once by {@link #fromConfig(Config)}.
 *
 * @param host interface to listen on
 * @param port TCP port; 0 picks a free one ({@link Emulator#port()} tells which)
 * @param profile the engine's timing model, with the {@code engine { }} overrides applied
 * @param seed mixed into every request's output, so two emulators with different seeds differ
 * @param tokensPerChunk output tokens per streamed chunk unless a request says otherwise
 * @param defaultMaxTokens output limit of requests without {@code max_tokens}
 * @param meanOutputTokens mean of the emulated end-of-sequence length distribution
 * @param defaultFault fault applied to requests without an {@code x-emulator-fault} header; null
 *     for none (syntax in {@link FaultSpec})
 * @param ioThreads event-loop threads; 0 = one per CPU core
 * @param servedModelName the model {@code /v1/models} lists and requests without {@code model} get
 * @param maxRequestBodyBytes larger request bodies are answered with 413
 * @param embeddingDimensions length of the vectors {@code /v1/embeddings} returns
 * @param divergence share of outputs (0..1) that differ from those of an emulator with the same
 *     seed and divergence 0: other words, another length, a refusal, another tool call or broken
 *     JSON ({@link OutputPlan})
 * @param fixedTiming exact timing in place of the profile's engine model; null for the model
 */
public record EmulatorSettings(
    String host,
    int port,
    EngineProfile profile,
    long seed,
    int tokensPerChunk,
    int defaultMaxTokens,
    double meanOutputTokens,
    String defaultFault,
    int ioThreads,
    String servedModelName,
    int maxRequestBodyBytes,
    int embeddingDimensions,
    double divergence,
    FixedTiming fixedTiming) {

  static final String PREFIX = "tokentap.emulator.";
  static final String DEFAULT_MODEL = "tokentap-emulator-8b";
  static final int DEFAULT_MAX_REQUEST_BODY_BYTES = 8 * 1024 * 1024;
  static final int DEFAULT_EMBEDDING_DIMENSIONS = 384;
  static final int MAX_EMBEDDING_DIMENSIONS = 65_536;

  public EmulatorSettings {
    requireNonNull(host, "host");
    requireNonNull(profile, "profile");
    requireNonNull(servedModelName, "servedModelName");
    checkArgument(port >= 0 && port <= 65535, "port: %s (expected: 0..65535)", port);
    checkArgument(tokensPerChunk >= 1, "tokensPerChunk: %s (expected: >= 1)", tokensPerChunk);
    checkArgument(defaultMaxTokens >= 1, "defaultMaxTokens: %s (expected: >= 1)", defaultMaxTokens);
    checkArgument(meanOutputTokens >= 1, "meanOutputTokens: %s (expected: >= 1)", meanOutputTokens);
    checkArgument(ioThreads >= 0, "ioThreads: %s (expected: >= 0)", ioThreads);
    checkArgument(
        maxRequestBodyBytes >= 1, "maxRequestBodyBytes: %s (expected: >= 1)", maxRequestBodyBytes);
    checkArgument(
        embeddingDimensions >= 1 && embeddingDimensions <= MAX_EMBEDDING_DIMENSIONS,
        "embeddingDimensions: %s (expected: 1..%s)",
        embeddingDimensions,
        MAX_EMBEDDING_DIMENSIONS);
    checkArgument(
        divergence >= 0 && divergence <= 1, "divergence: %s (expected: 0..1)", divergence);
    if (defaultFault != null) {
      try {
        FaultSpec.parse(defaultFault);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("defaultFault: " + e.getMessage(), e);
      }
    }
  }

  /** Settings without embedding dimensions: those take their default. */
  public EmulatorSettings(
      String host,
      int port,
      EngineProfile profile,
      long seed,
      int tokensPerChunk,
      int defaultMaxTokens,
      double meanOutputTokens,
      String defaultFault,
      int ioThreads,
      String servedModelName,
      int maxRequestBodyBytes) {
    this(
        host,
        port,
        profile,
        seed,
        tokensPerChunk,
        defaultMaxTokens,
        meanOutputTokens,
        defaultFault,
        ioThreads,
        servedModelName,
        maxRequestBodyBytes,
        DEFAULT_EMBEDDING_DIMENSIONS,
        0,
        null);
  }

  /**
   * Settings without a served model name, body limit or embedding dimensions: those take their
   * defaults.
   */
  public EmulatorSettings(
      String host,
      int port,
      EngineProfile profile,
      long seed,
      int tokensPerChunk,
      int defaultMaxTokens,
      double meanOutputTokens,
      String defaultFault,
      int ioThreads) {
    this(
        host,
        port,
        profile,
        seed,
        tokensPerChunk,
        defaultMaxTokens,
        meanOutputTokens,
        defaultFault,
        ioThreads,
        DEFAULT_MODEL,
        DEFAULT_MAX_REQUEST_BODY_BYTES,
        DEFAULT_EMBEDDING_DIMENSIONS,
        0,
        null);
  }

  /** The defaults of {@code reference.conf} (with its environment overrides). */
  public static EmulatorSettings defaults() {
    return fromConfig(ConfigFactory.defaultReference());
  }

  /**
   * Reads {@code root.getConfig("tokentap.emulator")}.
   *
   * @throws IllegalArgumentException naming the full key, the value and what is expected, e.g.
   *     {@code tokentap.emulator.engine.base-step: -1ms (expected: >= 0)}
   */
  public static EmulatorSettings fromConfig(Config root) {
    requireNonNull(root, "root");
    try {
      root.checkValid(ConfigFactory.defaultReference(), "tokentap.emulator");
    } catch (ConfigException.ValidationFailed e) {
      StringBuilder sb = new StringBuilder();
      for (ConfigException.ValidationProblem p : e.problems()) {
        sb.append(sb.length() == 0 ? "" : "; ").append(p.path()).append(": ").append(p.problem());
      }
      throw new IllegalArgumentException(sb.toString(), e);
    }
    try {
      SettingsReader c = new SettingsReader(root, PREFIX);
      String profileName = c.string("profile");
      EngineProfile profile;
      try {
        profile = EngineProfile.named(profileName);
      } catch (IllegalArgumentException e) {
        throw c.invalid("profile", "one of realistic, fast");
      }
      String fault = c.string("fault");
      try {
        FaultSpec.parse(fault);
      } catch (IllegalArgumentException e) {
        throw c.invalid("fault", FaultSpec.SYNTAX);
      }
      return new EmulatorSettings(
          c.nonBlank("host"),
          c.intBetween("port", 0, 65535),
          engineOverrides(c, profile),
          c.anyLong("seed"),
          c.intAtLeast("tokens-per-chunk", 1),
          c.intAtLeast("default-max-tokens", 1),
          c.doubleAtLeast("mean-output-tokens", 1),
          FaultSpec.parse(fault).isNone() ? null : fault,
          c.intAtLeast("io-threads", 0),
          c.nonBlank("served-model-name"),
          (int) c.bytesBetween("max-request-body-size", 1, Integer.MAX_VALUE),
          c.intBetween("embedding-dimensions", 1, MAX_EMBEDDING_DIMENSIONS),
          c.doubleBetween("divergence", 0, 1),
          fixedTiming(c));
    } catch (ConfigException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Both keys under {@code fixed-timing}, or neither. */
  private static FixedTiming fixedTiming(SettingsReader c) {
    boolean first = c.isSet("fixed-timing.first-token");
    boolean inter = c.isSet("fixed-timing.inter-token");
    if (first != inter) {
      String set = first ? "first-token" : "inter-token";
      String unset = first ? "inter-token" : "first-token";
      throw c.invalid("fixed-timing." + set, "null, or fixed-timing." + unset + " set too");
    }
    return first
        ? new FixedTiming(
            c.durationAtLeastZero("fixed-timing.first-token"),
            c.durationAtLeastZero("fixed-timing.inter-token"))
        : null;
  }

  /** {@code profile fast}, or {@code fixed timing 80ms/12ms}: what decides the timing. */
  public String timingName() {
    return fixedTiming == null ? "profile " + profile.name() : "fixed timing " + fixedTiming;
  }

  /** Each key under {@code engine} that is not null replaces the profile's value. */
  private static EngineProfile engineOverrides(SettingsReader c, EngineProfile p) {
    if (c.isSet("engine.base-step")) {
      p = p.withBaseStep(c.durationAtLeastZero("engine.base-step"));
    }
    if (c.isSet("engine.per-sequence-step")) {
      p = p.withPerSequenceStep(c.durationAtLeastZero("engine.per-sequence-step"));
    }
    if (c.isSet("engine.prefill-tokens-per-second")) {
      p = p.withPrefillTokensPerSecond(c.doubleAbove("engine.prefill-tokens-per-second", 0));
    }
    if (c.isSet("engine.max-batched-tokens")) {
      p = p.withMaxBatchedTokens(c.intAtLeast("engine.max-batched-tokens", 1));
    }
    if (c.isSet("engine.max-num-seqs")) {
      p = p.withMaxNumSeqs(c.intAtLeast("engine.max-num-seqs", 1));
    }
    if (c.isSet("engine.kv-cache-tokens")) {
      p = p.withKvCacheTokens(c.longAtLeast("engine.kv-cache-tokens", 1));
    }
    return p;
  }

  public EmulatorSettings withHost(String host) {
    return with(b -> b.host = host);
  }

  public EmulatorSettings withPort(int port) {
    return with(b -> b.port = port);
  }

  public EmulatorSettings withProfile(EngineProfile profile) {
    return with(b -> b.profile = profile);
  }

  public EmulatorSettings withSeed(long seed) {
    return with(b -> b.seed = seed);
  }

  public EmulatorSettings withTokensPerChunk(int tokensPerChunk) {
    return with(b -> b.tokensPerChunk = tokensPerChunk);
  }

  public EmulatorSettings withDefaultMaxTokens(int defaultMaxTokens) {
    return with(b -> b.defaultMaxTokens = defaultMaxTokens);
  }

  public EmulatorSettings withMeanOutputTokens(double meanOutputTokens) {
    return with(b -> b.meanOutputTokens = meanOutputTokens);
  }

  /** {@code fault} in {@link FaultSpec} syntax; null or {@code "none"} for none. */
  public EmulatorSettings withDefaultFault(String defaultFault) {
    return with(b -> b.defaultFault = defaultFault);
  }

  public EmulatorSettings withIoThreads(int ioThreads) {
    return with(b -> b.ioThreads = ioThreads);
  }

  public EmulatorSettings withServedModelName(String servedModelName) {
    return with(b -> b.servedModelName = servedModelName);
  }

  public EmulatorSettings withMaxRequestBodyBytes(int maxRequestBodyBytes) {
    return with(b -> b.maxRequestBodyBytes = maxRequestBodyBytes);
  }

  public EmulatorSettings withEmbeddingDimensions(int embeddingDimensions) {
    return with(b -> b.embeddingDimensions = embeddingDimensions);
  }

  /** The share of outputs (0..1) that differ from a divergence-0 emulator's with the same seed. */
  public EmulatorSettings withDivergence(double divergence) {
    return with(b -> b.divergence = divergence);
  }

  /** Exact timing in place of the engine model; null for the model. */
  public EmulatorSettings withFixedTiming(FixedTiming fixedTiming) {
    return with(b -> b.fixedTiming = fixedTiming);
  }

  private EmulatorSettings with(Consumer<Builder> change) {
    Builder b = new Builder(this);
    change.accept(b);
    return b.build();
  }

  /** The components of a copy being changed by one {@code with*} method. */
  private static final class Builder {
    String host, defaultFault, servedModelName;
    int port, tokensPerChunk, defaultMaxTokens, ioThreads, maxRequestBodyBytes, embeddingDimensions;
    EngineProfile profile;
    long seed;
    double meanOutputTokens, divergence;
    FixedTiming fixedTiming;

    Builder(EmulatorSettings s) {
      host = s.host; port = s.port; profile = s.profile; seed = s.seed; tokensPerChunk = s.tokensPerChunk;
      defaultMaxTokens = s.defaultMaxTokens; meanOutputTokens = s.meanOutputTokens; defaultFault = s.defaultFault;
      ioThreads = s.ioThreads; servedModelName = s.servedModelName; maxRequestBodyBytes = s.maxRequestBodyBytes;
      embeddingDimensions = s.embeddingDimensions; divergence = s.divergence; fixedTiming = s.fixedTiming;
    }

    EmulatorSettings build() {
      return new EmulatorSettings(
          host, port, profile, seed, tokensPerChunk, defaultMaxTokens, meanOutputTokens, defaultFault, ioThreads, servedModelName, maxRequestBodyBytes, embeddingDimensions, divergence, fixedTiming);
    }
  }
}

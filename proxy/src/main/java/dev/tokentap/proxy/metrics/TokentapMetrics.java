package dev.tokentap.proxy.metrics;

import dev.tokentap.meter.Outcome;
import dev.tokentap.meter.TokenGapListener;
import dev.tokentap.proxy.config.SloRule;
import dev.tokentap.proxy.record.FinishedRequest;
import dev.tokentap.proxy.record.RequestListener;
import dev.tokentap.proxy.record.Role;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Every tokentap meter, declared in one place (DESIGN §4). Names are given in Micrometer's dotted
 * form; the Prometheus registry renders them with the {@code tokentap_} prefix, base unit and
 * {@code _total} suffix shown in the comments; {@code tenant?}: only when tokentap.metrics.tenant is on.
 *
 * <p>Meters for one label set are looked up once and cached in a {@link Series}, so recording an
 * inter-token gap on the hot path is one histogram update.
 */
public final class TokentapMetrics implements RequestListener {

  // tokentap_time_to_first_token_seconds{model,route,target,role,tenant?}
  static final String TTFT = "tokentap.time.to.first.token";
  // tokentap_time_to_first_output_token_seconds{model,route,target,role,tenant?}
  static final String TTFO = "tokentap.time.to.first.output.token";
  // tokentap_time_to_first_byte_seconds{model,route,target,role,tenant?}
  static final String TTFB = "tokentap.time.to.first.byte";
  // tokentap_time_per_output_token_seconds{model,route,target,role,tenant?}
  static final String TPOT = "tokentap.time.per.output.token";
  // tokentap_inter_token_latency_seconds{model,route,target,role}
  static final String ITL = "tokentap.inter.token.latency";
  // tokentap_request_duration_seconds{model,route,target,role,outcome,tenant?}
  static final String DURATION = "tokentap.request.duration";
  // tokentap_requests_total{model,route,target,role,outcome,slo,tenant?}
  static final String REQUESTS = "tokentap.requests";
  // tokentap_tokens_total{model,route,target,role,type,tenant?}
  static final String TOKENS = "tokentap.tokens";
  // tokentap_request_tokens{model,route,target,role,type,tenant?}
  static final String REQUEST_TOKENS = "tokentap.request.tokens";
  // tokentap_tokens_per_event{model,route,target,role}
  static final String TOKENS_PER_EVENT = "tokentap.tokens.per.event";
  // tokentap_requests_in_flight{target,role}
  static final String IN_FLIGHT = "tokentap.requests.in.flight";
  // tokentap_shadow_copies_total{target,result}
  static final String SHADOW_COPIES = "tokentap.shadow.copies";
  // tokentap_shadow_pairs_total{target,result}
  static final String SHADOW_PAIRS = "tokentap.shadow.pairs";
  // tokentap_shadow_similarity_percent{target}
  static final String SHADOW_SIMILARITY = "tokentap.shadow.similarity";
  // tokentap_shadow_output_ratio_percent{target}
  static final String SHADOW_OUTPUT_RATIO = "tokentap.shadow.output.ratio";
  // tokentap_shadow_agreement_total{target,check,agreed}
  static final String SHADOW_AGREEMENT = "tokentap.shadow.agreement";
  // tokentap_shadow_outputs_total{target,side,kind}
  static final String SHADOW_OUTPUTS = "tokentap.shadow.outputs";
  // tokentap_shadow_factor_lease_expired_total{target}
  static final String SHADOW_LEASE_EXPIRED = "tokentap.shadow.factor.lease.expired";
  // tokentap_proxy_overhead_seconds{direction}
  static final String OVERHEAD = "tokentap.proxy.overhead";
  // tokentap_upstream_connect_errors_total{target,reason}
  static final String CONNECT_ERRORS = "tokentap.upstream.connect.errors";
  // tokentap_upstream_retries_total{target,reason}
  static final String RETRIES = "tokentap.upstream.retries";
  // tokentap_model_label_overflow_total
  static final String MODEL_OVERFLOW = "tokentap.model.label.overflow";
  // tokentap_tenant_label_overflow_total
  static final String TENANT_OVERFLOW = "tokentap.tenant.label.overflow";
  // tokentap_client_connections_closed_total{reason}
  static final String CLIENT_CONNECTIONS_CLOSED = "tokentap.client.connections.closed";

  /**
   * Why tokentap closed a client connection by one of its client-side limits (docs/reliability.md,
   * "Limits"): the {@code reason} label of {@code tokentap_client_connections_closed_total}.
   */
  public static final List<String> CLIENT_CLOSE_REASONS = List.of("head_timeout", "idle_timeout", "body_timeout", "max_connections");

  private final MeterRegistry registry;
  private final Duration[] ttftBuckets;
  private final Duration[] tpotBuckets;
  private final Duration[] itlBuckets;
  private final Duration[] durationBuckets;
  private final ConcurrentHashMap<SeriesKey, Series> series = new ConcurrentHashMap<>();
  /** Per role, per target: looked up by the target's (cached) hash, no key built per request. */
  private final java.util.EnumMap<Role, ConcurrentHashMap<String, AtomicLong>> inFlight = new java.util.EnumMap<>(Role.class);
  private final Timer requestOverhead;
  private final Timer responseOverhead;

  public TokentapMetrics(MeterRegistry registry, List<SloRule> slos) {
    this.registry = registry;
    for (Role role : Role.values()) {
      inFlight.put(role, new ConcurrentHashMap<>());
    }
    SloPolicy policy = new SloPolicy(slos);
    this.ttftBuckets = Buckets.durations(Buckets.TIME_TO_FIRST_TOKEN, policy.thresholds(SloRule::ttft));
    this.tpotBuckets = Buckets.durations(Buckets.PER_TOKEN, policy.thresholds(SloRule::tpot));
    // ITL buckets carry the TPOT thresholds too: per-gap ITL SLOs are usually stated in the same terms.
    this.itlBuckets = tpotBuckets;
    this.durationBuckets = Buckets.durations(Buckets.REQUEST_DURATION, policy.thresholds(SloRule::e2e));
    Duration[] overheadBuckets = Buckets.durations(Buckets.OVERHEAD, List.of());
    this.requestOverhead = timer(OVERHEAD, "Time the proxy adds: last request byte read to last byte written upstream (request), or an upstream read to its write to the client (response)", overheadBuckets, Tags.of("direction", "request"));
    this.responseOverhead = timer(OVERHEAD, "Time the proxy adds: last request byte read to last byte written upstream (request), or an upstream read to its write to the client (response)", overheadBuckets, Tags.of("direction", "response"));
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The meters of one label set, without a tenant; cheap to call repeatedly. */
  public Series series(String model, String route, String target, Role role) {
    return series(model, route, target, role, null);
  }

  /**
   * The meters of one label set; {@code tenant} null when tenants are off (no tenant label at all).
   * Per-event meters (ITL, tokens per event) never carry the tenant: series of every tenant share them.
   */
  public Series series(String model, String route, String target, Role role, String tenant) {
    return series.computeIfAbsent(new SeriesKey(model, route, target, role, tenant), this::newSeries);
  }

  /** Publishes the in-flight gauge of a target before its first request, so it is there on the first scrape. */
  public void registerInFlight(String target, Role role) {
    inFlightCounter(target, role);
  }

  /** Counts a request in flight; returns how many of {@code target}'s are in flight with it. */
  public long inFlightIncrement(String target, Role role) {
    return inFlightCounter(target, role).incrementAndGet();
  }

  public void inFlightDecrement(String target, Role role) {
    inFlightCounter(target, role).decrementAndGet();
  }

  /**
   * The fate of shadow copies for {@code target}: sent, dropped_queue_full, dropped_bulkhead,
   * dropped_circuit_open, dropped_rate_limit, skipped_body_too_large or failed (DESIGN §4).
   */
  public Counter shadowCopies(String target, String result) {
    return Counter.builder(SHADOW_COPIES)
        .description("Shadow copies by fate: sent (staging's response read to the end), dropped before sending (queue full, bulkhead, circuit open, rate limit, body too large) or failed")
        .tags("target", target, "result", result)
        .register(registry);
  }

  /**
   * Compared pairs (production's output and a copy's) for {@code target}: compared (both ended
   * well), production_error, shadow_error, both_error, not_sent (the copy was dropped before
   * leaving) or dropped (max-pending pairs were waiting). docs/shadow.md, "Comparing models".
   */
  public Counter shadowPairs(String target, String result) {
    return Counter.builder(SHADOW_PAIRS)
        .description("Production/shadow output pairs by result: compared, production_error, shadow_error, both_error, not_sent, dropped")
        .tags("target", target, "result", result)
        .register(registry);
  }

  /**
   * ROUGE-L F1 over the first max-tokens words of the two texts, per compared pair, in percent (0 to
   * 100). Percent, not a fraction, because Micrometer files a summary's value into its buckets
   * rounded up to a whole number: with whole-number boundaries that is exact.
   */
  public DistributionSummary shadowSimilarity(String target) {
    return percentSummary(SHADOW_SIMILARITY, target, Buckets.SIMILARITY_PERCENT,
        "Text similarity of shadow to production per compared pair: ROUGE-L F1 over words of the first max-tokens words, in percent (100 = the same)");
  }

  /** Output tokens of the copy over production's, per compared pair where production had some, in percent. */
  public DistributionSummary shadowOutputRatio(String target) {
    return percentSummary(SHADOW_OUTPUT_RATIO, target, Buckets.OUTPUT_RATIO_PERCENT,
        "Output tokens of shadow / production per compared pair, in percent (100 = as long)");
  }

  private DistributionSummary percentSummary(String name, String target, double[] buckets, String description) {
    return DistributionSummary.builder(name)
        .description(description)
        .baseUnit("percent")
        .tags("target", target)
        .serviceLevelObjectives(Buckets.values(buckets))
        .minimumExpectedValue(buckets[0])
        .register(registry);
  }

  /**
   * Checks of compared pairs that {@code agreed} ("true"/"false"): exact_match (deterministic
   * requests only), finish_reason, tool_calls (where either side called a tool), json (where JSON
   * was asked for: both valid or both not).
   */
  public Counter shadowAgreement(String target, String check, boolean agreed) {
    return Counter.builder(SHADOW_AGREEMENT)
        .description("Checks of compared output pairs, by check (exact_match, finish_reason, tool_calls, json) and whether the two sides agreed")
        .tags("target", target, "check", check, "agreed", Boolean.toString(agreed))
        .register(registry);
  }

  /** Compared outputs of {@code side} (production, shadow) of a kind: refusal, empty, json_invalid, tool_call. */
  public Counter shadowOutputs(String target, String side, String kind) {
    return Counter.builder(SHADOW_OUTPUTS)
        .description("Outputs of compared pairs by side (production, shadow) and kind: refusal, empty, json_invalid (JSON asked for), tool_call")
        .tags("target", target, "side", side, "kind", kind)
        .register(registry);
  }

  /**
   * Factors set with a lease ({@code PUT /admin/shadow?...&ttl=30s}) that ran out unrenewed, so the
   * target went back to its configured factor by itself (docs/shadow.md, "From a fleet").
   */
  public Counter shadowFactorLeaseExpired(String target) {
    return Counter.builder(SHADOW_LEASE_EXPIRED)
        .description("Shadow factors set on a lease that ran out without renewal, putting the target back to its configured factor")
        .tags("target", target)
        .register(registry);
  }

  /**
   * Publishes the upstream connection counters of {@code target} at 0 before anything happens, so
   * that rate() over them is 0, not absent, on a healthy proxy (dashboards and alerts see "none").
   */
  public void registerUpstream(String target) {
    for (String reason : new String[] {"refused", "timeout", "tls", "other"}) {
      connectErrors(target, reason);
    }
    for (String reason : new String[] {"connect_failed", "stale_connection"}) {
      retries(target, reason);
    }
  }

  /**
   * A connection to {@code target} could not be made; {@code reason} is refused, timeout, tls (the
   * handshake failed: an untrusted certificate, one for another host, or no common protocol) or other.
   */
  public void upstreamConnectError(String target, String reason) {
    connectErrors(target, reason).increment();
  }

  /**
   * A request was sent again on a new connection because the upstream cannot have acted on it;
   * {@code reason} is {@code connect_failed} (a new connection failed before the request was
   * written) or {@code stale_connection} (a pooled connection closed before any response byte).
   */
  public void upstreamRetry(String target, String reason) {
    retries(target, reason).increment();
  }

  private Counter connectErrors(String target, String reason) {
    return Counter.builder(CONNECT_ERRORS)
        .description("Connections to an upstream that could not be made, by reason: refused, timeout, tls (handshake or certificate verification failed), other; answered 502, except other, which is tried once more")
        .tags("target", target, "reason", reason)
        .register(registry);
  }

  private Counter retries(String target, String reason) {
    return Counter.builder(RETRIES)
        .description("Requests sent again on a new connection because the upstream cannot have acted on them: connect_failed (a new connection failed before any request byte), stale_connection (a pooled connection closed before any response byte)")
        .tags("target", target, "reason", reason)
        .register(registry);
  }

  /** Publishes every {@code tokentap_client_connections_closed_total} series at 0, before the first close. */
  public void registerClientLimits() {
    CLIENT_CLOSE_REASONS.forEach(this::clientConnectionsClosed);
  }

  /**
   * The counter of client connections closed for {@code reason}, one of {@link
   * #CLIENT_CLOSE_REASONS}. Such a connection is not a request: {@code tokentap_requests_total}
   * counts it only when a request was under way (a body timeout).
   */
  public Counter clientConnectionsClosed(String reason) {
    return Counter.builder(CLIENT_CONNECTIONS_CLOSED)
        .description("Client connections closed by a client-side limit: head_timeout (request head not complete in time), idle_timeout (keep-alive connection with no request), body_timeout (request body stalled), max_connections (over tokentap.proxy.max-connections, closed as accepted)")
        .tags("reason", reason)
        .register(registry);
  }

  /** Counts requests whose model label became {@code other} because tokentap.metrics.max-models names were taken. */
  public Counter modelLabelOverflow() {
    return Counter.builder(MODEL_OVERFLOW)
        .description("Requests labelled model=\"other\" because tokentap.metrics.max-models distinct model names were already in use")
        .register(registry);
  }

  /** Counts requests whose tenant label became {@code other} (tokentap.metrics.tenant.max-tenants or allow). */
  public Counter tenantLabelOverflow() {
    return Counter.builder(TENANT_OVERFLOW)
        .description("Requests labelled tenant=\"other\" because tokentap.metrics.tenant.max-tenants values were in use or the tenant was not on the allow-list")
        .register(registry);
  }

  public void recordResponseOverhead(long nanos) {
    responseOverhead.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void onFinished(FinishedRequest r) {
    Series s = series(r.model(), r.route().label(), r.target(), r.role(), r.tenant());
    recordSeconds(s.ttft, r.ttftSeconds());
    recordSeconds(s.ttfo, r.ttfoSeconds());
    recordSeconds(s.ttfb, r.ttfbSeconds());
    recordSeconds(s.tpot, r.tpotSeconds());
    if (r.role() == Role.PRIMARY) { // the proxy's own overhead: shadow copies and bench requests relay nothing
      recordSeconds(requestOverhead, r.requestOverheadSeconds());
    }
    s.duration(this, r.outcome()).record(r.endNanos() - r.startNanos(), TimeUnit.NANOSECONDS);
    s.requests(this, r.outcome(), r.slo()).increment();
    if (r.meter() != null) {
      countTokens(s.outputTokens, s.outputTokensPerRequest, r.meter().outputTokens());
      countTokens(s.inputTokens, s.inputTokensPerRequest, r.meter().inputTokens());
      countTokens(s.reasoningTokens, null, r.meter().reasoningTokens());
      countTokens(s.cachedInputTokens, null, r.meter().cachedInputTokens());
    }
  }

  private static void countTokens(Counter counter, DistributionSummary perRequest, long tokens) {
    if (tokens < 0) {
      return;
    }
    counter.increment(tokens);
    if (perRequest != null) {
      perRequest.record(tokens);
    }
  }

  private static void recordSeconds(Timer timer, double seconds) {
    if (!Double.isNaN(seconds)) {
      timer.record(Math.max(0, Math.round(seconds * 1e9)), TimeUnit.NANOSECONDS);
    }
  }

  private AtomicLong inFlightCounter(String target, Role role) {
    return inFlight.get(role).computeIfAbsent(target, k -> {
      AtomicLong value = new AtomicLong();
      Gauge.builder(IN_FLIGHT, value, AtomicLong::get)
          .description("Requests started and not yet finished")
          .tags("target", target, "role", role.label())
          .register(registry);
      return value;
    });
  }

  private Series newSeries(SeriesKey k) {
    Tags perEvent = Tags.of("model", k.model, "route", k.route, "target", k.target, "role", k.role.label());
    return new Series(this, k.tenant == null ? perEvent : perEvent.and("tenant", k.tenant), perEvent);
  }

  private Timer timer(String name, String help, Duration[] buckets, Tags tags) {
    return Timer.builder(name)
        .description(help)
        .tags(tags)
        .serviceLevelObjectives(buckets)
        .minimumExpectedValue(buckets[0])
        .maximumExpectedValue(buckets[buckets.length - 1])
        .register(registry);
  }

  private Counter requestsCounter(Tags tags) {
    return Counter.builder(REQUESTS)
        .description("Finished requests by outcome and SLO verdict; goodput is the rate of slo=\"met\"")
        .tags(tags)
        .register(registry);
  }

  private DistributionSummary tokensSummary(Tags tags) {
    return DistributionSummary.builder(REQUEST_TOKENS)
        .description("Tokens per request (input: prompt, output: generated)")
        .tags(tags)
        .serviceLevelObjectives(Buckets.values(Buckets.TOKENS))
        .register(registry);
  }

  private Counter tokensCounter(Tags tags, String type) {
    return Counter.builder(TOKENS)
        .description("Tokens processed, by type: input, output, reasoning (part of output), cached_input (part of input)")
        .tags(tags.and("type", type))
        .register(registry);
  }

  private record SeriesKey(String model, String route, String target, Role role, String tenant) {}

  /**
   * The meters of one {model, route, target, role} and tenant (when on). Its ITL timer is the meter's
   * gap listener; ITL and tokens per event are labelled without the tenant.
   */
  public static final class Series implements TokenGapListener {
    final Tags tags;
    final Timer ttft;
    final Timer ttfo;
    final Timer ttfb;
    final Timer tpot;
    final Timer itl;
    final Counter inputTokens;
    final Counter outputTokens;
    final Counter reasoningTokens;
    final Counter cachedInputTokens;
    final DistributionSummary inputTokensPerRequest;
    final DistributionSummary outputTokensPerRequest;
    final DistributionSummary tokensPerEvent;
    private final AtomicReferenceArray<Timer> durations = new AtomicReferenceArray<>(Outcome.values().length);
    private final AtomicReferenceArray<Counter> requests = new AtomicReferenceArray<>(Outcome.values().length * 3);

    private Series(TokentapMetrics m, Tags tags, Tags perEvent) {
      this.tags = tags;
      this.ttft = m.timer(TTFT, "Time to first token: first request byte to the first token-bearing event", m.ttftBuckets, tags);
      this.ttfo = m.timer(TTFO, "Time to first output token: first request byte to the first event with visible (non-reasoning) output", m.ttftBuckets, tags);
      this.ttfb = m.timer(TTFB, "Time to first byte: first request byte to the upstream response head", m.ttftBuckets, tags);
      this.tpot = m.timer(TPOT, "Time per output token, one value per request: (last token - first token) / (output tokens - 1)", m.tpotBuckets, tags);
      this.itl = m.timer(ITL, "Inter-token latency: every gap between consecutive token-bearing events", m.itlBuckets, perEvent);
      this.inputTokens = m.tokensCounter(tags, "input");
      this.outputTokens = m.tokensCounter(tags, "output");
      this.reasoningTokens = m.tokensCounter(tags, "reasoning");
      this.cachedInputTokens = m.tokensCounter(tags, "cached_input");
      this.inputTokensPerRequest = m.tokensSummary(tags.and("type", "input"));
      this.outputTokensPerRequest = m.tokensSummary(tags.and("type", "output"));
      this.tokensPerEvent = DistributionSummary.builder(TOKENS_PER_EVENT)
          .description("Output tokens one stream event carried, where the server says (vLLM continuous usage, llama.cpp per-token timings, Triton num_output_tokens); above 1: speculative decoding or batched streaming")
          .tags(perEvent)
          .serviceLevelObjectives(Buckets.values(Buckets.TOKENS_PER_EVENT))
          .register(m.registry);
    }

    /** The E2E timer of {@code outcome}: registered on first use, then a plain array read per request. */
    Timer duration(TokentapMetrics m, Outcome outcome) {
      Timer t = durations.get(outcome.ordinal());
      if (t == null) { // a race registers twice and gets the same meter back
        t = m.timer(DURATION, "End-to-end request latency: first request byte to the end of the response (or the break)",
            m.durationBuckets, tags.and("outcome", outcome.label()));
        durations.set(outcome.ordinal(), t);
      }
      return t;
    }

    /** The requests counter of {@code outcome} and SLO verdict {@code slo}, cached like {@link #duration}. */
    Counter requests(TokentapMetrics m, Outcome outcome, String slo) {
      int verdict = SloPolicy.MET.equals(slo) ? 0 : SloPolicy.MISSED.equals(slo) ? 1 : SloPolicy.NONE.equals(slo) ? 2 : -1;
      if (verdict < 0) {
        return m.requestsCounter(tags.and("outcome", outcome.label(), "slo", slo));
      }
      int i = outcome.ordinal() * 3 + verdict;
      Counter c = requests.get(i);
      if (c == null) {
        c = m.requestsCounter(tags.and("outcome", outcome.label(), "slo", slo));
        requests.set(i, c);
      }
      return c;
    }

    @Override
    public void interTokenGap(long gapNanos) {
      itl.record(gapNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void tokensPerEvent(long tokens) {
      tokensPerEvent.record(tokens);
    }
  }
}

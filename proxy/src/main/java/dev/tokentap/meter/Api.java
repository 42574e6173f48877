package dev.tokentap.meter;

/**
 * The wire format a response is read in: which {@link Dialect} the {@link StreamMeter} uses. It is
 * not the {@link Route}: Ollama's {@code /api/chat} is the {@code chat} operation in Ollama's
 * format. The relay picks both from the request path (configurable, since gateways rewrite paths).
 */
public enum Api {
  /** OpenAI Chat Completions and legacy Completions, and the servers that copy them. */
  OPENAI("openai"),
  /** OpenAI Responses API ({@code /v1/responses}). */
  OPENAI_RESPONSES("openai-responses"),
  /** Anthropic Messages ({@code /v1/messages}). */
  ANTHROPIC("anthropic"),
  /** Ollama's native NDJSON API ({@code /api/chat}, {@code /api/generate}). */
  OLLAMA("ollama"),
  /** Hugging Face TGI's native API ({@code /generate_stream}, {@code /generate}). */
  TGI("tgi"),
  /** Triton/KServe generate extension ({@code /v2/models/{name}/generate_stream}). */
  TRITON("triton"),
  /** Embeddings ({@code /v1/embeddings}, Ollama's {@code /api/embed}): latency and input tokens. */
  EMBEDDINGS("embeddings"),
  /** No known format: bytes are relayed and counted, nothing is read ({@code unparsed}). */
  UNKNOWN("unknown");

  private final String configName;

  Api(String configName) {
    this.configName = configName;
  }

  /** The name in configuration ({@code tokentap.routes[].api}). */
  public String configName() {
    return configName;
  }

  /** The API for a configuration name, or null. */
  public static Api ofConfigName(String name) {
    for (Api api : values()) {
      if (api.configName.equals(name)) {
        return api;
      }
    }
    return null;
  }

  /** The usual format of a route, for callers that know only the route. */
  public static Api defaultFor(Route route) {
    return switch (route) {
      case CHAT, COMPLETIONS -> OPENAI;
      case RESPONSES -> OPENAI_RESPONSES;
      case MESSAGES -> ANTHROPIC;
      case GENERATE -> TGI;
      case EMBEDDINGS -> EMBEDDINGS;
      case OTHER -> UNKNOWN;
    };
  }
}

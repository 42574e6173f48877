package dev.tokentap.emulator;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last in each connection's pipeline: routes whole requests to the generation endpoints, {@code
 * /v1/embeddings}, {@code /v1/models}, Ollama's {@code /api/tags} and {@code /api/version}, {@code
 * /health} and {@code /metrics}, and tells the running {@link GenerationExchange} or {@link
 * EmbeddingExchange} when its client goes away.
 *
 * <pre>
 *   HttpServerCodec ─▶ HttpObjectAggregator (413 beyond max-request-body-size) ─▶ EmulatorHttpHandler
 * </pre>
 *
 * One exchange runs per connection at a time. A request pipelined behind a running stream waits,
 * retained, until the stream ends (HTTP/1.1 answers in order) and is released if the connection
 * closes first. It writes error responses on its own (400, 404, 405, and a status fault's code).
 */
final class EmulatorHttpHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(EmulatorHttpHandler.class);

  /** The generation APIs by path; another API is one more entry. */
  private static final Map<String, ApiFraming> GENERATION_ROUTES =
      Map.of(
          "/v1/chat/completions", ChatCompletionFraming.INSTANCE,
          "/v1/completions", CompletionFraming.INSTANCE,
          "/v1/responses", ResponsesFraming.INSTANCE,
          "/v1/messages", AnthropicMessagesFraming.INSTANCE,
          "/api/chat", OllamaFraming.CHAT,
          "/api/generate", OllamaFraming.GENERATE);

  private final EmulatorRuntime runtime;
  private final long startedEpochSeconds;

  private ChannelHandlerContext ctx;
  private ConnectionExchange current;
  private final ArrayDeque<FullHttpRequest> pipelined = new ArrayDeque<>();

  EmulatorHttpHandler(EmulatorRuntime runtime, long startedEpochSeconds) {
    this.runtime = runtime;
    this.startedEpochSeconds = startedEpochSeconds;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest request)) {
      ReferenceCountUtil.release(msg); // the aggregator passes on nothing else
      return;
    }
    if (current != null) {
      pipelined.add(request); // released when served or when the connection closes
      return;
    }
    try {
      handle(request);
    } finally {
      request.release();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    long now = System.nanoTime();
    if (current != null) {
      current.clientDisconnected(now);
    }
    for (FullHttpRequest r; (r = pipelined.poll()) != null; ) {
      r.release();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (current != null && ctx.channel().isWritable()) {
      current.channelWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof IOException)) {
      log.warn("Closing an emulator connection after an unexpected error", cause);
    }
    ctx.close(); // channelInactive cancels what was running
  }

  private void handle(FullHttpRequest request) {
    long arrivalNanos = System.nanoTime();
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (request.decoderResult().isFailure()) {
      sendError(
          HttpResponseStatus.BAD_REQUEST,
          "invalid_request_error",
          "null",
          "Malformed HTTP request: " + request.decoderResult().cause(),
          false);
      return;
    }
    String path = new QueryStringDecoder(request.uri()).path();
    HttpMethod method = request.method();
    ApiFraming framing = GENERATION_ROUTES.get(path);
    if (framing != null) {
      if (method.equals(HttpMethod.POST)) {
        generate(request, framing, keepAlive, arrivalNanos);
      } else {
        methodNotAllowed(method, path, keepAlive);
      }
      return;
    }
    switch (path) {
      case "/v1/embeddings" -> {
        if (method.equals(HttpMethod.POST)) {
          embed(request, keepAlive, arrivalNanos);
        } else {
          methodNotAllowed(method, path, keepAlive);
        }
      }
      case "/health" -> {
        if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) {
          send(HttpResponseStatus.OK, null, "", keepAlive); // vLLM answers 200 with an empty body
        } else {
          methodNotAllowed(method, path, keepAlive);
        }
      }
      case "/metrics" -> {
        if (method.equals(HttpMethod.GET)) {
          send(
              HttpResponseStatus.OK,
              EmulatorMetrics.CONTENT_TYPE,
              runtime.metrics().scrape(),
              keepAlive);
        } else {
          methodNotAllowed(method, path, keepAlive);
        }
      }
      case "/v1/models" -> {
        if (method.equals(HttpMethod.GET)) {
          send(
              HttpResponseStatus.OK,
              HttpHeaderValues.APPLICATION_JSON.toString(),
              modelsJson(),
              keepAlive);
        } else {
          methodNotAllowed(method, path, keepAlive);
        }
      }
      case "/api/tags", "/api/version" -> {
        if (method.equals(HttpMethod.GET)) {
          // Ollama clients list models (and check the version) before they generate.
          String body =
              path.equals("/api/tags")
                  ? OllamaFraming.tagsJson(
                      runtime.settings().servedModelName(), startedEpochSeconds)
                  : OllamaFraming.VERSION_JSON;
          send(
              HttpResponseStatus.OK, HttpHeaderValues.APPLICATION_JSON.toString(), body, keepAlive);
        } else {
          methodNotAllowed(method, path, keepAlive);
        }
      }
      default ->
          sendError(
              HttpResponseStatus.NOT_FOUND,
              "invalid_request_error",
              "null",
              "Invalid URL (" + method + " " + path + ")",
              keepAlive);
    }
  }

  private void generate(
      FullHttpRequest http, ApiFraming framing, boolean keepAlive, long arrivalNanos) {
    GenerationRequestReader.Read read;
    try {
      read = GenerationRequestReader.read(http, framing, runtime.settings());
    } catch (InvalidRequestException e) {
      // In the API's own error shape: its SDK raises a typed error only for that.
      send(
          HttpResponseStatus.BAD_REQUEST,
          HttpHeaderValues.APPLICATION_JSON.toString(),
          framing.errorBody(400, "invalid_request_error", "null", e.getMessage()),
          keepAlive);
      return;
    }
    GenerationRequest request = read.request();
    FaultSpec fault = read.fault();
    runtime.metrics().requestAccepted();
    if (fault.kind() == FaultSpec.Kind.STATUS) {
      rejectWithStatus(
          request.route(),
          request.model(),
          request.stream(),
          request.promptTokens(),
          framing,
          fault.status(),
          keepAlive,
          arrivalNanos);
      return;
    }
    GenerationExchange exchange =
        new GenerationExchange(
            ctx,
            runtime,
            request,
            framing,
            fault,
            read.tokensPerChunk(),
            keepAlive,
            arrivalNanos,
            this::exchangeDone);
    current = exchange;
    exchange.start();
  }

  /**
   * {@code POST /v1/embeddings}. Of the faults only {@code status=} applies (the others count
   * output tokens, of which an embedding has none).
   */
  private void embed(FullHttpRequest http, boolean keepAlive, long arrivalNanos) {
    FaultSpec fault;
    Embeddings.Request request;
    try {
      fault = GenerationRequestReader.fault(http, runtime.settings());
      request = Embeddings.parse(GenerationRequestReader.readJson(http), runtime.settings());
    } catch (InvalidRequestException e) {
      sendError(
          HttpResponseStatus.BAD_REQUEST,
          "invalid_request_error",
          "null",
          e.getMessage(),
          keepAlive);
      return;
    }
    runtime.metrics().requestAccepted();
    if (fault.kind() == FaultSpec.Kind.STATUS) {
      rejectWithStatus(
          Embeddings.ROUTE,
          request.model(),
          false,
          request.promptTokens(),
          null,
          fault.status(),
          keepAlive,
          arrivalNanos);
      return;
    }
    EmbeddingExchange exchange =
        new EmbeddingExchange(ctx, runtime, request, keepAlive, arrivalNanos, this::exchangeDone);
    current = exchange;
    exchange.start();
  }

  /**
   * Answers at once with a status fault's code.
   *
   * @param framing the API whose error shape to use; null for OpenAI's
   */
  private void rejectWithStatus(
      String route,
      String model,
      boolean stream,
      int promptTokens,
      ApiFraming framing,
      int status,
      boolean keepAlive,
      long arrivalNanos) {
    String type =
        status == 429
            ? "rate_limit_error"
            : status >= 500 ? "server_error" : "invalid_request_error";
    FullHttpResponse res =
        response(
            HttpResponseStatus.valueOf(status),
            HttpHeaderValues.APPLICATION_JSON.toString(),
            framing == null
                ? OpenAiJson.errorJson(
                    "emulated fault: HTTP " + status, type, Integer.toString(status))
                : framing.errorBody(
                    status, type, Integer.toString(status), "emulated fault: HTTP " + status),
            keepAlive);
    if (status == 429) {
      res.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
    }
    write(res, keepAlive);
    runtime.finished(
        new EmulatedRequest(
            route,
            model,
            stream,
            promptTokens,
            0,
            "status_" + status,
            arrivalNanos,
            -1,
            -1,
            -1));
  }

  /**
   * The exchange finished: serve a pipelined request, on a fresh task to keep the stack shallow.
   */
  private void exchangeDone() {
    current = null;
    if (!pipelined.isEmpty()) {
      ctx.executor().execute(this::servePipelined);
    }
  }

  private void servePipelined() {
    while (current == null && ctx.channel().isActive()) {
      FullHttpRequest next = pipelined.poll();
      if (next == null) {
        return;
      }
      try {
        handle(next);
      } finally {
        next.release();
      }
    }
  }

  private String modelsJson() {
    String id = OpenAiJson.quote(runtime.settings().servedModelName());
    return "{\"object\":\"list\",\"data\":[{\"id\":"
        + id
        + ",\"object\":\"model\",\"created\":"
        + startedEpochSeconds
        + ",\"owned_by\":\"tokentap\",\"root\":"
        + id
        + ",\"parent\":null}]}";
  }

  private void methodNotAllowed(HttpMethod method, String path, boolean keepAlive) {
    sendError(
        HttpResponseStatus.METHOD_NOT_ALLOWED,
        "invalid_request_error",
        "null",
        "Method Not Allowed (" + method + " " + path + ")",
        keepAlive);
  }

  private void sendError(
      HttpResponseStatus status, String type, String codeJson, String message, boolean keepAlive) {
    send(
        status,
        HttpHeaderValues.APPLICATION_JSON.toString(),
        OpenAiJson.errorJson(message, type, codeJson),
        keepAlive);
  }

  private void send(HttpResponseStatus status, String contentType, String body, boolean keepAlive) {
    write(response(status, contentType, body, keepAlive), keepAlive);
  }

  private FullHttpResponse response(
      HttpResponseStatus status, String contentType, String body, boolean keepAlive) {
    FullHttpResponse res =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, status, ByteBufUtil.writeUtf8(ctx.alloc(), body));
    if (contentType != null) {
      res.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    }
    HttpUtil.setContentLength(res, res.content().readableBytes());
    HttpUtil.setKeepAlive(res, keepAlive);
    return res;
  }

  private void write(FullHttpResponse res, boolean keepAlive) {
    if (!ctx.channel().isActive()) {
      res.release();
      return;
    }
    ctx.writeAndFlush(res)
        .addListener(
            keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
  }
}

package dev.tokentap.emulator;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;

/**
 * One generation request from arrival to its single finish: it plans the output, hands the sequence
 * to the engine, turns the engine's progress into the API's chunks on the client channel's event
 * loop, applies the request's fault, and reports an {@link EmulatedRequest} exactly once
 * (completed, cancelled when the client goes away, or ended by a fault).
 *
 * <p>Engine progress arrives as "tokens emitted so far per choice", so steps merged on the way
 * still produce every token. Tokens are grouped {@code tokensPerChunk} to a chunk; while the client
 * channel is not writable, full groups wait and merge into one chunk once it drains, as vLLM merges
 * deltas for a lagging HTTP consumer. Everything but {@link #onOutput} runs on the channel's event
 * loop.
 */
final class GenerationExchange implements Sequence.Listener, ConnectionExchange {

  static final String ENGINE_FAILURE = "emulated engine failure";

  private final ChannelHandlerContext ctx;
  private final Channel channel;
  private final EmulatorRuntime runtime;
  private final GenerationRequest request;
  private final ApiFraming framing;
  private final ApiFraming.ResponseContext response;
  private final FaultSpec fault;
  private final int tokensPerChunk;
  private final boolean keepAlive;
  private final long arrivalNanos;
  private final Runnable onDone;
  private final OutputPlan[] plans;
  private final Sequence sequence;

  // Event loop only. text[c]: a stream's tokens not yet in a chunk, or a whole non-streamed reply.
  private final int[] consumed;
  private final int[] pendingTokens;
  private final StringBuilder[] text;
  private final boolean[] started;
  private int tokensSent;
  private int unfinishedChoices;
  private long firstTokenNanos = -1;
  private long lastTokenNanos = -1;
  private boolean finished;

  GenerationExchange(
      ChannelHandlerContext ctx,
      EmulatorRuntime runtime,
      GenerationRequest request,
      ApiFraming framing,
      FaultSpec fault,
      int tokensPerChunk,
      boolean keepAlive,
      long arrivalNanos,
      Runnable onDone) {
    this.ctx = ctx;
    this.channel = ctx.channel();
    this.runtime = runtime;
    this.request = request;
    this.framing = framing;
    this.response = framing.newResponse(request);
    this.fault = fault;
    this.tokensPerChunk = tokensPerChunk;
    this.keepAlive = keepAlive;
    this.arrivalNanos = arrivalNanos;
    this.onDone = onDone;
    int n = request.n();
    EmulatorSettings s = runtime.settings();
    plans = new OutputPlan[n];
    int[] lengths = new int[n];
    for (int c = 0; c < n; c++) {
      plans[c] =
          OutputPlan.of(
              s.seed(),
              request.seed(),
              request.promptText(),
              c,
              request.maxTokens(),
              request.ignoreEos(),
              s.meanOutputTokens(),
              s.divergence(),
              request.format());
      lengths[c] = plans[c].length();
      if (plans[c].toolName() != null) {
        if (response.state().toolNames == null) {
          response.state().toolNames = new String[n];
        }
        response.state().toolNames[c] = plans[c].toolName();
      }
    }
    boolean stall = fault.kind() == FaultSpec.Kind.STALL_AFTER;
    sequence =
        new Sequence(
            request.promptTokens(),
            lengths,
            request.kvReservation(),
            stall ? fault.afterTokens() : -1,
            stall ? fault.stall().toNanos() : 0,
            this);
    consumed = new int[n];
    pendingTokens = new int[n];
    text = new StringBuilder[n];
    for (int c = 0; c < n; c++) {
      text[c] = new StringBuilder();
    }
    started = new boolean[n];
    unfinishedChoices = n;
  }

  /**
   * Sends a stream's headers at once (as vLLM does, before the first token) and queues the
   * sequence.
   */
  void start() {
    if (!channel.isActive()) {
      finish("cancelled", System.nanoTime());
      return;
    }
    if (request.stream()) {
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers().set(HttpHeaderNames.CONTENT_TYPE, framing.streamContentType());
      HttpUtil.setTransferEncodingChunked(head, true);
      HttpUtil.setKeepAlive(head, keepAlive);
      StringBuilder out = new StringBuilder();
      framing.appendStreamStart(response, out);
      ctx.write(head);
      if (out.length() > 0) {
        ctx.write(new DefaultHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), out)));
      }
      ctx.flush();
    }
    runtime.engine().submit(sequence);
  }

  @Override
  public void onOutput(int[] emittedPerChoice) {
    // Engine thread: hand over to the channel's event loop, which owns everything below.
    try {
      channel.eventLoop().execute(() -> advance(emittedPerChoice));
    } catch (RejectedExecutionException e) {
      sequence.cancel(); // the event loop is shutting down with the emulator
    }
  }

  /** The client channel closed before the response was complete. */
  @Override
  public void clientDisconnected(long nanos) {
    if (finished) {
      return;
    }
    abandonSequence();
    finish("cancelled", nanos);
  }

  /** The channel drained below its low water mark: send the groups held back meanwhile. */
  @Override
  public void channelWritable() {
    if (finished || !request.stream()) {
      return;
    }
    StringBuilder out = new StringBuilder();
    for (int c = 0; c < plans.length; c++) {
      if (pendingTokens[c] >= tokensPerChunk) {
        appendPending(c, out);
      }
    }
    writeContent(out, false);
  }

  private void advance(int[] emitted) {
    if (finished) {
      return;
    }
    StringBuilder out = new StringBuilder(256);
    if (fault.endsStream() && fault.afterTokens() == 0) {
      endByFault(out);
      return;
    }
    boolean writable = channel.isWritable();
    for (int c = 0; c < plans.length; c++) {
      while (consumed[c] < emitted[c]) {
        int i = consumed[c]++;
        tokensSent++;
        lastTokenNanos = System.nanoTime();
        if (firstTokenNanos < 0) {
          firstTokenNanos = lastTokenNanos;
        }
        text[c].append(plans[c].tokenText(i));
        pendingTokens[c]++;
        boolean last = consumed[c] == plans[c].length();
        if (last) {
          unfinishedChoices--;
        }
        if (last || (writable && pendingTokens[c] >= tokensPerChunk)) {
          appendPending(c, out);
        }
        if (fault.endsStream() && tokensSent == fault.afterTokens()) {
          for (int p = 0; p < plans.length; p++) {
            appendPending(p, out);
          }
          endByFault(out);
          return;
        }
      }
    }
    if (unfinishedChoices == 0) {
      complete(out);
    } else {
      writeContent(out, false);
    }
  }

  /** Streams choice {@code c}'s held tokens as one chunk (a stream's text holds only those). */
  private void appendPending(int c, StringBuilder out) {
    if (!request.stream() || pendingTokens[c] == 0) {
      return;
    }
    boolean last = consumed[c] == plans[c].length();
    framing.appendChunk(
        response, c, !started[c], text[c], consumed[c], last ? plans[c].finishReason() : null, out);
    started[c] = true;
    pendingTokens[c] = 0;
    text[c].setLength(0);
  }

  /** Every choice finished: the stream's closing events, or the whole non-streamed body. */
  private void complete(StringBuilder out) {
    ApiFraming.Usage usage =
        new ApiFraming.Usage(
            request.promptTokens(), tokensSent, arrivalNanos, firstTokenNanos, lastTokenNanos);
    if (request.stream()) {
      framing.appendStreamEnd(response, usage, out);
      writeContent(out, true);
    } else if (channel.isActive()) {
      List<String> reasons = new ArrayList<>(plans.length);
      for (OutputPlan plan : plans) {
        reasons.add(plan.finishReason());
      }
      writeFull(
          HttpResponseStatus.OK, framing.completeBody(response, List.of(text), reasons, usage));
    }
    finish(plans[0].finishReason(), -1);
  }

  private void endByFault(StringBuilder out) {
    abandonSequence();
    switch (fault.kind()) {
      case ERROR_AFTER -> {
        if (request.stream()) {
          framing.appendStreamError(response, ENGINE_FAILURE, out);
          writeContent(out, true);
        } else if (channel.isActive()) {
          writeFull(
              HttpResponseStatus.INTERNAL_SERVER_ERROR,
              framing.errorBody(500, "InternalServerError", "500", ENGINE_FAILURE));
        }
        finish("error", -1);
      }
      case RESET_AFTER -> {
        // SO_LINGER 0 makes close() send RST instead of FIN: a crashed server, not a finished one.
        writeThen(
            out,
            f -> {
              if (channel.isOpen()) { // the client may have hung up meanwhile: nothing left to reset
                channel.config().setOption(ChannelOption.SO_LINGER, 0);
              }
              channel.close();
            });
        finish("reset", -1);
      }
      case CLOSE_AFTER -> {
        // A clean FIN without the chunked terminator: the client sees a truncated body.
        writeThen(out, ChannelFutureListener.CLOSE);
        finish("closed", -1);
      }
      default -> throw new IllegalStateException("not an ending fault: " + fault);
    }
  }

  /** Tells the engine to drop the sequence at its next step (and to wake up if it is idle). */
  private void abandonSequence() {
    sequence.cancel();
    runtime.engine().wakeUp();
  }

  private void finish(String finishReason, long disconnectNanos) {
    finished = true;
    runtime.finished(
        new EmulatedRequest(
            request.route(),
            request.model(),
            request.stream(),
            request.promptTokens(),
            tokensSent,
            finishReason,
            arrivalNanos,
            firstTokenNanos,
            lastTokenNanos,
            disconnectNanos));
    onDone.run();
  }

  /** Writes a stream's events as one HTTP chunk; {@code last} ends the chunked body. */
  private void writeContent(StringBuilder out, boolean last) {
    if (!channel.isActive()) {
      return; // nothing allocated yet, nothing to release
    }
    if (out.length() == 0 && !last) {
      return;
    }
    if (out.length() == 0) {
      ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(closeUnlessKeepAlive());
      return;
    }
    ByteBuf buf = ByteBufUtil.writeUtf8(ctx.alloc(), out);
    if (last) {
      ctx.writeAndFlush(new DefaultLastHttpContent(buf)).addListener(closeUnlessKeepAlive());
    } else {
      ctx.writeAndFlush(new DefaultHttpContent(buf));
    }
  }

  /**
   * Writes what is pending (if anything, and only into a started stream), then runs {@code then}.
   */
  private void writeThen(StringBuilder out, ChannelFutureListener then) {
    if (!channel.isActive()) {
      return;
    }
    if (request.stream() && out.length() > 0) {
      ctx.writeAndFlush(new DefaultHttpContent(ByteBufUtil.writeUtf8(ctx.alloc(), out)))
          .addListener(then);
    } else {
      ctx.flush();
      ctx.newSucceededFuture().addListener(then);
    }
  }

  private void writeFull(HttpResponseStatus status, String json) {
    FullHttpResponse res =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, status, ByteBufUtil.writeUtf8(ctx.alloc(), json));
    res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
    HttpUtil.setContentLength(res, res.content().readableBytes());
    HttpUtil.setKeepAlive(res, keepAlive);
    ctx.writeAndFlush(res).addListener(closeUnlessKeepAlive());
  }

  private ChannelFutureListener closeUnlessKeepAlive() {
    return keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE;
  }
}

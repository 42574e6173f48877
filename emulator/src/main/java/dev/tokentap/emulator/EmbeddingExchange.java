package dev.tokentap.emulator;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.concurrent.RejectedExecutionException;

/**
 * One {@code /v1/embeddings} request from arrival to its single finish: each input runs through the
 * engine as a prefill-only {@link Sequence} (so embeddings share the engine's queue, seats, KV
 * budget and prefill rate with generation, and count in {@code vllm:prompt_tokens_total}); when the
 * last one has prefilled, the vectors are written as one response. Reports an {@link
 * EmulatedRequest} exactly once: {@code stop} when answered, {@code cancelled} when the client went
 * away first. Everything but the engine's callbacks runs on the channel's event loop.
 */
final class EmbeddingExchange implements ConnectionExchange {

  private final ChannelHandlerContext ctx;
  private final Channel channel;
  private final EmulatorRuntime runtime;
  private final Embeddings.Request request;
  private final boolean keepAlive;
  private final long arrivalNanos;
  private final Runnable onDone;
  private final Sequence[] sequences;

  // Event loop only.
  private int unfinished;
  private boolean finished;

  EmbeddingExchange(
      ChannelHandlerContext ctx,
      EmulatorRuntime runtime,
      Embeddings.Request request,
      boolean keepAlive,
      long arrivalNanos,
      Runnable onDone) {
    this.ctx = ctx;
    this.channel = ctx.channel();
    this.runtime = runtime;
    this.request = request;
    this.keepAlive = keepAlive;
    this.arrivalNanos = arrivalNanos;
    this.onDone = onDone;
    int[] tokens = request.inputTokens();
    sequences = new Sequence[tokens.length];
    Sequence.Listener listener = this::onPrefilled;
    for (int i = 0; i < tokens.length; i++) {
      // Output length 0: prefill only. The KV reservation is the prompt.
      sequences[i] = new Sequence(tokens[i], new int[] {0}, tokens[i], -1, 0, listener);
    }
    unfinished = tokens.length;
  }

  /** Queues every input's sequence. */
  void start() {
    if (!channel.isActive()) {
      finish("cancelled", System.nanoTime());
      return;
    }
    for (Sequence s : sequences) {
      runtime.engine().submit(s);
    }
  }

  /** Engine thread: one input has prefilled; hand over to the channel's event loop. */
  private void onPrefilled(int[] emittedPerChoice) {
    try {
      channel.eventLoop().execute(this::inputDone);
    } catch (RejectedExecutionException e) {
      cancelSequences(); // the event loop is shutting down with the emulator
    }
  }

  private void inputDone() {
    if (finished || --unfinished > 0) {
      return;
    }
    if (channel.isActive()) {
      String body = Embeddings.responseBody(request, runtime.settings().seed());
      FullHttpResponse res =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.OK,
              ByteBufUtil.writeUtf8(ctx.alloc(), body));
      res.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON);
      HttpUtil.setContentLength(res, res.content().readableBytes());
      HttpUtil.setKeepAlive(res, keepAlive);
      ctx.writeAndFlush(res)
          .addListener(
              keepAlive ? ChannelFutureListener.CLOSE_ON_FAILURE : ChannelFutureListener.CLOSE);
    }
    finish("stop", -1); // vLLM finishes a pooling request as stopped
  }

  @Override
  public void clientDisconnected(long nanos) {
    if (finished) {
      return;
    }
    cancelSequences();
    finish("cancelled", nanos);
  }

  @Override
  public void channelWritable() {
    // One full response: nothing held back.
  }

  /** Tells the engine to drop the unfinished sequences at its next step (waking it if idle). */
  private void cancelSequences() {
    for (Sequence s : sequences) {
      s.cancel();
    }
    runtime.engine().wakeUp();
  }

  private void finish(String finishReason, long disconnectNanos) {
    finished = true;
    runtime.finished(
        new EmulatedRequest(
            Embeddings.ROUTE,
            request.model(),
            false,
            request.promptTokens(),
            0,
            finishReason,
            arrivalNanos,
            -1,
            -1,
            disconnectNanos));
    onDone.run();
  }
}

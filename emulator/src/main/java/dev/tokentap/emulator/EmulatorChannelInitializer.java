package dev.tokentap.emulator;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;

/** The pipeline of each client connection, in order. */
final class EmulatorChannelInitializer extends ChannelInitializer<SocketChannel> {

  private final EmulatorRuntime runtime;
  private final long startedEpochSeconds;

  EmulatorChannelInitializer(EmulatorRuntime runtime, long startedEpochSeconds) {
    this.runtime = runtime;
    this.startedEpochSeconds = startedEpochSeconds;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    addHttpCodec(p);
    addRequestAggregator(p);
    addEmulatorHandler(p);
  }

  private static void addHttpCodec(ChannelPipeline p) {
    p.addLast("http", new HttpServerCodec());
  }

  /** Whole requests only: bodies are small JSON; beyond the limit the aggregator answers 413. */
  private void addRequestAggregator(ChannelPipeline p) {
    p.addLast("aggregate", new HttpObjectAggregator(runtime.settings().maxRequestBodyBytes()));
  }

  private void addEmulatorHandler(ChannelPipeline p) {
    p.addLast("emulator", new EmulatorHttpHandler(runtime, startedEpochSeconds));
  }
}

package dev.tokentap.emulator;

/**
 * The request a connection is serving ({@link GenerationExchange}, {@link EmbeddingExchange}), as
 * {@link EmulatorHttpHandler} sees it: told when its client goes away or the channel drains. Event
 * loop only.
 */
interface ConnectionExchange {

  /** The client channel closed before the response was complete. */
  void clientDisconnected(long nanos);

  /** The channel drained below its low water mark. */
  void channelWritable();
}

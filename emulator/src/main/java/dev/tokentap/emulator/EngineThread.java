package dev.tokentap.emulator;

import java.util.concurrent.locks.LockSupport;

/**
 * What both engines share: one daemon thread running {@link #run()} until {@link #close()}, parked
 * while there is nothing to do and woken by {@link #unpark()}.
 */
abstract class EngineThread implements Engine {

  private final Thread thread;
  private volatile boolean closed;

  EngineThread() {
    this.thread = new Thread(this::run, "tokentap-emulator-engine");
    thread.setDaemon(true);
  }

  /** The engine thread's loop; it returns once {@link #isClosed()}. */
  abstract void run();

  @Override
  public final void start() {
    thread.start();
  }

  /** Wakes the engine thread from a park; any thread. */
  final void unpark() {
    LockSupport.unpark(thread);
  }

  final boolean isClosed() {
    return closed;
  }

  @Override
  public final void close() {
    closed = true;
    unpark();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

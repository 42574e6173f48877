package dev.tokentap.emulator;

/**
 * What the exchanges need from the emulated engine: {@link EngineLoop} (continuous batching, DESIGN
 * §7) or {@link FixedTimingEngine} (exact timing, {@code tokentap.emulator.fixed-timing}).
 */
interface Engine extends AutoCloseable {

  void start();

  /** Queues a sequence; any thread. Its progress goes to its {@link Sequence.Listener}. */
  void submit(Sequence sequence);

  /** Lets an idle engine notice a cancellation now. */
  void wakeUp();

  @Override
  void close();

  /** The engine the settings ask for. */
  static Engine of(EmulatorSettings settings, EmulatorMetrics metrics) {
    FixedTiming fixed = settings.fixedTiming();
    return fixed == null
        ? new EngineLoop(settings.profile(), metrics)
        : new FixedTimingEngine(fixed, metrics);
  }
}

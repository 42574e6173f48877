package dev.tokentap.emulator;

import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every connection of one emulator shares: its settings, engine, metrics and listeners. */
record EmulatorRuntime(
    EmulatorSettings settings,
    Engine engine,
    EmulatorMetrics metrics,
    List<Consumer<EmulatedRequest>> listeners) {

  private static final Logger log = LoggerFactory.getLogger(EmulatorRuntime.class);

  /** Counts a finished request and hands it to every listener (on the caller's event loop). */
  void finished(EmulatedRequest request) {
    metrics.requestFinished(request.finishReason());
    for (Consumer<EmulatedRequest> listener : listeners) {
      try {
        listener.accept(request);
      } catch (RuntimeException e) {
        log.warn("An emulator listener failed on {}", request, e);
      }
    }
  }
}

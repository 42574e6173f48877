package dev.tokentap.emulator;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Collects the emulator's finished-request reports. */
final class Recorder implements Consumer<EmulatedRequest> {

  private final LinkedBlockingQueue<EmulatedRequest> queue = new LinkedBlockingQueue<>();
  final List<EmulatedRequest> all = new CopyOnWriteArrayList<>();

  @Override
  public void accept(EmulatedRequest r) {
    all.add(r);
    queue.add(r);
  }

  EmulatedRequest next(Duration timeout) throws InterruptedException {
    EmulatedRequest r = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (r == null) {
      throw new AssertionError("no request finished within " + timeout);
    }
    return r;
  }

  void clear() {
    queue.clear();
    all.clear();
  }
}

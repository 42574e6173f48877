package dev.tokentap.proxy.record;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The writer's batches against a destination that refuses writes for a while (a full disk that
 * is then cleared): every line of a refused batch is counted as dropped and never written later;
 * every write holds whole lines; a line longer than a batch is written alone.
 */
class QueuedLineWriterTest {

  /** Line {@code status} of {@code bytes} bytes (newline included) to a destination that can be made to refuse. */
  static final class Recording extends QueuedLineWriter {
    final List<String> writes = new CopyOnWriteArrayList<>();
    volatile boolean refusing;
    /** Bytes of line n, newline included. */
    volatile java.util.function.IntUnaryOperator lineBytes = n -> 40;
    volatile int written;

    Recording(Counter dropped) {
      super(1024, dropped, "test-writer");
      start();
    }

    @Override
    void format(FinishedRequest request, OutputStream to) throws IOException {
      String head = "line " + request.status() + " ";
      to.write((head + "x".repeat(Math.max(0, lineBytes.applyAsInt(request.status()) - head.length() - 1)) + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    void writeOut(byte[] bytes, int length) throws IOException {
      if (refusing) {
        throw new IOException("No space left on device");
      }
      writes.add(new String(bytes, 0, length, StandardCharsets.US_ASCII));
    }

    @Override
    void written(int lines) { // the writer thread only
      written += lines;
    }

    @Override
    void closeOutput() {}

    List<String> lines() {
      List<String> all = new ArrayList<>();
      for (String w : writes) {
        for (String l : w.split("\n")) {
          all.add(l.substring(0, l.indexOf(' ', 5)));
        }
      }
      return all;
    }
  }

  static FinishedRequest request(int n) {
    return new FinishedRequest(Role.PRIMARY, null, null, null, null, 0, 0, 0, 0, 0, n, null, null, 0, 0, null, 0);
  }

  @Test
  void aRefusedBatchIsDroppedWholeCountedLineByLineAndNeverWrittenLater() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Counter dropped = registry.counter("dropped");
    try (Recording w = new Recording(dropped)) {
      w.onFinished(request(1));
      await(() -> w.lines().size() == 1);
      w.refusing = true;
      for (int i = 2; i <= 51; i++) {
        w.onFinished(request(i));
      }
      await(() -> dropped.count() == 50);
      w.refusing = false;
      w.onFinished(request(52));
      await(() -> w.lines().size() == 2);
      Thread.sleep(50); // a batch kept from the refused writes would be written with this one
      assertThat(w.lines()).containsExactly("line 1", "line 52");
      assertThat(dropped.count()).isEqualTo(50);
      assertThat(w.written).isEqualTo(2);
    }
  }

  @Test
  void everyWriteHoldsWholeLinesAndALongLineGoesAlone() throws Exception {
    Counter dropped = new SimpleMeterRegistry().counter("dropped");
    try (Recording w = new Recording(dropped)) {
      w.lineBytes = n -> n <= 300 ? 1000 : n == 301 ? 200_000 : 100;
      for (int i = 1; i <= 300; i++) { // 300 KB: several batches of 64 KiB at most
        w.onFinished(request(i));
      }
      await(() -> w.written == 300);
      w.onFinished(request(301));
      w.onFinished(request(302));
      await(() -> w.written == 302);
      for (String write : w.writes) {
        assertThat(write).endsWith("\n");
      }
      assertThat(w.writes).allSatisfy(write -> assertThat(write.length() <= QueuedLineWriter.BATCH_BYTES || write.split("\n").length == 1).isTrue());
      assertThat(w.writes).anySatisfy(write -> assertThat(write).hasSize(200_000));
      List<String> expected = new ArrayList<>();
      for (int i = 1; i <= 302; i++) {
        expected.add("line " + i);
      }
      assertThat(w.lines()).isEqualTo(expected);
      assertThat(dropped.count()).isZero();
    }
  }

  static void await(BooleanSupplier done) throws InterruptedException {
    for (int i = 0; i < 500 && !done.getAsBoolean(); i++) {
      Thread.sleep(10);
    }
    assertThat(done.getAsBoolean()).as("within 5 s").isTrue();
  }
}

package dev.tokentap.meter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Feeds a body to a {@link StreamMeter} in pieces, as upstream reads would arrive. Piece {@code k}
 * gets timestamp {@link #nanosOfPiece(int) nanosOfPiece(k)}, so a test can tell which read
 * completed an event.
 */
final class Feeder {
  static final long HEAD_NANOS = 500;

  private Feeder() {}

  static long nanosOfPiece(int piece) {
    return 1_000_000L * (piece + 1);
  }

  /** Piece boundaries {@code 0 = c0 < c1 < ... < cn = length}. */
  static int[] whole(int length) {
    return new int[] {0, length};
  }

  static int[] twoPieces(int length, int at) {
    if (at <= 0 || at >= length) {
      return whole(length);
    }
    return new int[] {0, at, length};
  }

  static int[] byteByByte(int length) {
    int[] cuts = new int[length + 1];
    for (int i = 0; i <= length; i++) {
      cuts[i] = i;
    }
    return cuts;
  }

  static int[] random(int length, Random random) {
    int pieces = 1 + random.nextInt(Math.max(1, Math.min(40, length)));
    int[] inner = random.ints(pieces - 1, 1, Math.max(2, length)).distinct().sorted().toArray();
    int[] cuts = new int[inner.length + 2];
    System.arraycopy(inner, 0, cuts, 1, inner.length);
    cuts[cuts.length - 1] = length;
    return cuts;
  }

  /**
   * Every way to feed a body the fixture tests use: whole, every 2-way split, byte by byte, random.
   */
  static List<int[]> allSplits(int length, long seed, int randomSplits) {
    List<int[]> splits = new ArrayList<>();
    splits.add(whole(length));
    for (int at = 1; at < length; at++) {
      splits.add(twoPieces(length, at));
    }
    splits.add(byteByByte(length));
    Random random = new Random(seed);
    for (int i = 0; i < randomSplits; i++) {
      splits.add(random(length, random));
    }
    return splits;
  }

  /** Index of the piece that holds byte {@code offset}. */
  static int pieceOf(int[] cuts, int offset) {
    int i = Arrays.binarySearch(cuts, offset);
    return i >= 0 ? i : -i - 2;
  }

  static StreamMeter meter(Route route, boolean usageInjected, TokenGapListener gaps) {
    return new StreamMeter(route, usageInjected, gaps, 1 << 20);
  }

  /** Head, pieces, then onComplete at the time after the last piece. */
  static MeterResult feed(StreamMeter meter, byte[] body, int[] cuts) {
    return feed(meter, "text/event-stream; charset=utf-8", body, cuts);
  }

  /** The same, for a body of the given {@code Content-Type}. */
  static MeterResult feed(StreamMeter meter, String contentType, byte[] body, int[] cuts) {
    meter.onResponseHead(200, contentType, HEAD_NANOS);
    for (int k = 0; k + 1 < cuts.length; k++) {
      meter.onBody(body, cuts[k], cuts[k + 1] - cuts[k], nanosOfPiece(k));
    }
    meter.onComplete(nanosOfPiece(cuts.length));
    return meter.result();
  }

  static String describe(int[] cuts) {
    return cuts.length > 12 ? (cuts.length - 1) + " pieces" : "pieces at " + Arrays.toString(cuts);
  }
}

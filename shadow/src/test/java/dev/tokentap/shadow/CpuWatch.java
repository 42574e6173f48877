package dev.tokentap.shadow;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's CPU over an interval, from {@code /proc/stat} (Linux; elsewhere it reads nothing
 * and says so): how busy it was and how much the hypervisor took (steal). A test that judges
 * timing shapes uses it to tell a result about the code from one about a saturated machine.
 */
final class CpuWatch {
  private final long[] start = read();

  /** Busy and steal shares of all CPU time since this watch started; null where /proc/stat cannot be read. */
  double[] busyAndSteal() {
    long[] end = read();
    if (start == null || end == null) {
      return null;
    }
    long total = 0;
    for (int i = 0; i < end.length; i++) {
      total += end[i] - start[i];
    }
    if (total <= 0) {
      return null;
    }
    long idle = (end[3] - start[3]) + (end[4] - start[4]); // idle, iowait
    long steal = end.length > 7 ? end[7] - start[7] : 0;
    return new double[] {1.0 - (double) idle / total, (double) steal / total};
  }

  /** user nice system idle iowait irq softirq steal (guest time is already in user). */
  private static long[] read() {
    try {
      String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = cpu.trim().split("\\s+");
      int n = Math.min(8, f.length - 1);
      long[] v = new long[n];
      for (int i = 0; i < n; i++) {
        v[i] = Long.parseLong(f[i + 1]);
      }
      return v;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}

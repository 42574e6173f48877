package dev.tokentap.benchmarks.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CPU time and memory of one server under test, read from {@code /proc}: a process and its direct
 * children (nginx's workers), summed. The JVM heap comes from {@code jcmd GC.heap_info} after a
 * {@code GC.run}, so it is the live heap rather than whatever garbage the last cycle left.
 */
final class ProcessProbe {
  /** USER_HZ; 100 on every Linux this runs on (`getconf CLK_TCK`). */
  private static final double TICKS_PER_SECOND = 100.0;

  private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total \\d+K, used (\\d+)K");

  private final long pid;
  private final boolean jvm;

  ProcessProbe(long pid, boolean jvm) {
    this.pid = pid;
    this.jvm = jvm;
  }

  boolean isJvm() {
    return jvm;
  }

  /** User plus system CPU seconds of the process and its children so far. */
  double cpuSeconds() throws IOException {
    long ticks = 0;
    for (long p : pids()) {
      String[] f = statFields(p);
      ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]); // utime, stime (fields 14, 15)
    }
    return ticks / TICKS_PER_SECOND;
  }

  /**
   * CPU seconds the JVM's JIT compiler threads ({@code C1 CompilerThre…}, {@code C2 CompilerThre…})
   * have used so far; 0 for a process that is not a JVM. While they are busy, the process's CPU
   * per event is not yet its steady state.
   */
  double jitCpuSeconds() throws IOException {
    if (!jvm) {
      return 0;
    }
    long ticks = 0;
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String[] f = statFields(task.resolve("stat"));
          if (f[1].startsWith("C1 CompilerThre") || f[1].startsWith("C2 CompilerThre")) {
            ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]);
          }
        } catch (IOException | RuntimeException gone) {
          // a compiler thread that ended while we listed the tasks (HotSpot stops idle ones)
        }
      }
    }
    return ticks / TICKS_PER_SECOND;
  }

  /** Resident set size in bytes, process plus children. */
  long rssBytes() throws IOException {
    long kb = 0;
    for (long p : pids()) {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p), "status"))) {
        if (line.startsWith("VmRSS:")) {
          kb += Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    }
    return kb * 1024;
  }

  /** Open file descriptors of the process itself (sockets included). */
  int openFiles() throws IOException {
    try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return (int) fds.count();
    }
  }

  /** Live heap in bytes after a full collection, or -1 when this is not a JVM or jcmd fails. */
  long liveHeapBytes() throws IOException, InterruptedException {
    if (!jvm) {
      return -1;
    }
    jcmd("GC.run");
    Matcher m = HEAP_USED.matcher(jcmd("GC.heap_info"));
    return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
  }

  private String jcmd(String command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  private List<Long> pids() throws IOException {
    List<Long> all = new ArrayList<>();
    all.add(pid);
    try (var dirs = Files.list(Path.of("/proc"))) {
      for (Path dir : (Iterable<Path>) dirs::iterator) {
        String name = dir.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          String[] f = statFields(Long.parseLong(name));
          if (Long.parseLong(f[3]) == pid) { // ppid (field 4)
            all.add(Long.parseLong(name));
          }
        } catch (IOException | RuntimeException gone) {
          // a process that ended while we listed /proc
        }
      }
    }
    return all;
  }

  /** Fields of /proc/PID/stat, split after the parenthesised command name (which may hold spaces). */
  private static String[] statFields(long pid) throws IOException {
    return statFields(Path.of("/proc", Long.toString(pid), "stat"));
  }

  private static String[] statFields(Path file) throws IOException {
    String stat = Files.readString(file);
    int close = stat.lastIndexOf(')');
    String[] rest = stat.substring(close + 2).split(" ");
    String[] fields = new String[rest.length + 2];
    fields[0] = stat.substring(0, stat.indexOf(' '));
    fields[1] = stat.substring(stat.indexOf('(') + 1, close);
    System.arraycopy(rest, 0, fields, 2, rest.length);
    return fields;
  }
}

package dev.tokentap.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code tokentap.proxy.allocator} in fresh JVMs with a 256 MiB heap, where Netty on its own runs
 * its adaptive allocator in low-memory mode: tokentap turns that mode off, picks the configured
 * allocator, lets the JVM flags win, and relays a metered stream with either allocator under the
 * paranoid leak detector.
 */
class BufferAllocatorTest {
  @Test
  void nettyAloneWouldPickLowMemoryModeAtThisHeap() throws Exception {
    List<String> out = probe(List.of(), "netty");
    assertThat(out).contains("allocator=AdaptiveByteBufAllocator", "lowMemory=true");
  }

  @Test
  void defaultIsTheAdaptiveAllocatorOutOfLowMemoryMode() throws Exception {
    List<String> out = probe(List.of(), "tokentap");
    assertThat(out).contains("allocator=AdaptiveByteBufAllocator", "lowMemory=false");
    assertRelayed(out);
  }

  @Test
  void pooledRelaysAndMetersTheSame() throws Exception {
    List<String> out = probe(List.of(), "tokentap", "tokentap.proxy.allocator=pooled");
    assertThat(out).contains("allocator=PooledByteBufAllocator");
    assertRelayed(out);
  }

  @Test
  void jvmFlagsWinOverTheSetting() throws Exception {
    List<String> out = probe(List.of("-Dio.netty.allocator.type=adaptive", "-Dio.netty.allocator.lowMemory=true"),
        "tokentap", "tokentap.proxy.allocator=pooled");
    assertThat(out).contains("allocator=AdaptiveByteBufAllocator", "lowMemory=true");
    assertRelayed(out);
  }

  private static void assertRelayed(List<String> out) {
    assertThat(out.stream().filter(l -> l.startsWith("relayed="))).hasSize(3).allMatch(l -> l.equals("relayed=true"));
    assertThat(out.stream().filter(l -> l.startsWith("outputTokens="))).hasSize(3).allMatch(l -> l.equals("outputTokens=40"));
  }

  private static List<String> probe(List<String> jvmFlags, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    command.add("-Dio.netty.leakDetection.level=paranoid");
    command.addAll(jvmFlags);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(BufferAllocatorProbe.class.getName());
    command.addAll(List.of(args));
    Path log = Files.createTempFile("allocator-probe", ".log");
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    String text;
    try {
      boolean exited = p.waitFor(60, TimeUnit.SECONDS);
      text = Files.readString(log, StandardCharsets.UTF_8);
      assertThat(exited).as("the probe exits: " + text).isTrue();
    } finally {
      p.destroyForcibly();
      Files.deleteIfExists(log);
    }
    assertThat(p.exitValue()).as(text).isZero();
    assertThat(text).as("Netty's leak detector").doesNotContain("LEAK:");
    return text.lines().toList();
  }
}

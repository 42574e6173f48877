package dev.tokentap.app;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

/**
 * The demo's traffic: OpenAI requests with Poisson arrivals (exponential gaps of mean 1/rate) on an
 * absolute schedule, so a slow response never delays the next arrival. A mix of streaming chat with
 * and without usage, non-streaming chat and streaming completions, of varied prompt and output
 * lengths, and a small share of requests that ask the emulator for a mid-stream error. At most 512
 * requests are outstanding; past that, arrivals are skipped rather than queued without bound.
 */
final class PoissonTraffic implements AutoCloseable {
  private static final String[] WORDS = {"latency", "token", "stream", "model", "batch", "cache", "prefill", "decode", "replica", "gateway"};

  private final URI base;
  private final double rate;
  private final SplittableRandom random;
  private final HttpClient client;
  private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> daemon(new Thread(r, "demo-client")));
  private final Semaphore outstanding = new Semaphore(512);
  private final Thread scheduler;
  private volatile boolean running = true;

  PoissonTraffic(URI base, double rate, long seed) {
    this.base = base;
    this.rate = rate;
    this.random = new SplittableRandom(seed);
    this.client = HttpClient.newBuilder().executor(executor).connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
    this.scheduler = daemon(new Thread(this::schedule, "demo-arrivals"));
  }

  void start() {
    scheduler.start();
  }

  private void schedule() {
    long next = System.nanoTime();
    while (running) {
      next += (long) (-Math.log(1 - random.nextDouble()) / rate * 1e9);
      long wait;
      while (running && (wait = next - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      if (running && outstanding.tryAcquire()) {
        send();
      }
    }
  }

  private void send() {
    double kind = random.nextDouble();
    int maxTokens = 16 + random.nextInt(240);
    String prompt = prompt(8 + random.nextInt(400));
    String path;
    String body;
    if (kind < 0.05) {
      path = "/v1/completions";
      body = "{\"model\":\"demo-8b\",\"stream\":true,\"max_tokens\":" + maxTokens + ",\"prompt\":\"" + prompt + "\"}";
    } else {
      boolean stream = kind >= 0.15;
      boolean usage = kind >= 0.15 && kind < 0.35;
      body = "{\"model\":\"demo-8b\",\"stream\":" + stream + (usage ? ",\"stream_options\":{\"include_usage\":true}" : "")
          + ",\"max_tokens\":" + maxTokens + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}]}";
      path = "/v1/chat/completions";
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
        .header("content-type", "application/json")
        .timeout(Duration.ofMinutes(5))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (random.nextDouble() < 0.02) {
      request.header("x-emulator-fault", "error-after=" + (1 + random.nextInt(8)));
    }
    client.sendAsync(request.build(), HttpResponse.BodyHandlers.discarding())
        .whenComplete((response, error) -> outstanding.release());
  }

  private String prompt(int words) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < words; i++) {
      sb.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
    }
    return sb.toString();
  }

  private static Thread daemon(Thread t) {
    t.setDaemon(true);
    return t;
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    scheduler.interrupt();
    scheduler.join(1000);
    executor.shutdownNow();
  }
}

package dev.tokentap.proxy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closed-loop clients that only grow: each sends a non-streaming request (one response to read, so
 * the load costs the machine little) with {@code max_tokens} drawn
 * uniformly from [{@code minTokens}, {@code maxTokens}] (so their ends spread over the engine's steps),
 * then the next, until {@link #close}. {@link #grow} adds clients on top of the running ones, so a
 * higher step never starts from an empty server.
 */
final class ClosedLoopLoad implements AutoCloseable {
  private final URI uri;
  private final int minTokens;
  private final int maxTokens;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final List<Thread> clients = new ArrayList<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicLong finished = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  ClosedLoopLoad(URI uri, int minTokens, int maxTokens) {
    this.uri = uri;
    this.minTokens = minTokens;
    this.maxTokens = maxTokens;
  }

  /** Adds clients until {@code concurrency} run. */
  void grow(int concurrency) {
    while (clients.size() < concurrency) {
      Random random = new Random(clients.size());
      Thread t = new Thread(() -> loop(random), "closed-loop-" + clients.size());
      t.setDaemon(true);
      t.start();
      clients.add(t);
    }
  }

  /** Waits until {@code requests} more have finished, or {@code timeout}. */
  void awaitFinished(long requests, Duration timeout) throws InterruptedException {
    long target = finished.get() + requests;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (finished.get() < target && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    if (finished.get() < target) {
      throw new AssertionError("only " + (finished.get() - target + requests) + " of " + requests + " requests finished in " + timeout);
    }
  }

  long failed() {
    return failed.get();
  }

  private void loop(Random random) {
    while (!stop.get()) {
      int tokens = minTokens + random.nextInt(maxTokens - minTokens + 1);
      String body = "{\"model\":\"m\",\"stream\":false,\"max_tokens\":" + tokens
          + ",\"ignore_eos\":true,\"messages\":[{\"role\":\"user\",\"content\":\"load\"}]}";
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
        (r.statusCode() == 200 ? finished : failed).incrementAndGet();
      } catch (java.io.IOException e) {
        failed.incrementAndGet();
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Lets every client finish its request in flight, then stops them. */
  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    for (Thread t : clients) {
      t.join(30_000);
    }
  }
}

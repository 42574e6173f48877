package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** A real HTTP/1.1 client (java.net.http) for the emulator, with SSE helpers. */
final class TestClient {

  static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final URI base;

  TestClient(URI base) {
    this.base = base;
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(base.resolve(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body, String... headers)
      throws IOException, InterruptedException {
    return http.send(request(path, body, headers), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Streams the response, stamping each {@code data:} line with {@link System#nanoTime()} as it
   * arrives.
   */
  Streamed stream(String path, String body, String... headers)
      throws IOException, InterruptedException {
    long sent = System.nanoTime();
    HttpResponse<Stream<String>> res =
        http.send(request(path, body, headers), HttpResponse.BodyHandlers.ofLines());
    List<Event> events = new ArrayList<>();
    try (Stream<String> lines = res.body()) {
      Iterator<String> it = lines.iterator();
      while (it.hasNext()) {
        String line = it.next();
        if (line.startsWith("data: ")) {
          events.add(new Event(line.substring(6), System.nanoTime()));
        }
      }
    } catch (UncheckedIOException e) {
      return new Streamed(
          res.statusCode(),
          res.headers().firstValue("content-type").orElse(""),
          sent,
          events,
          e.getCause());
    }
    return new Streamed(
        res.statusCode(), res.headers().firstValue("content-type").orElse(""), sent, events, null);
  }

  private HttpRequest request(String path, String body, String... headers) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return b.build();
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String chatBody(String content, Map<String, Object> extra) {
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("model", "test-model");
    body.put("messages", List.of(Map.of("role", "user", "content", content)));
    body.putAll(extra);
    try {
      return JSON.writeValueAsString(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String completionBody(String prompt, Map<String, Object> extra) {
    Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("model", "test-model");
    body.put("prompt", prompt);
    body.putAll(extra);
    try {
      return JSON.writeValueAsString(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  record Event(String data, long nanos) {
    boolean isDone() {
      return data.equals("[DONE]");
    }

    JsonNode json() {
      return TestClient.json(data);
    }

    /** A chunk carrying output text (the DESIGN's token-bearing event). */
    boolean carriesText() {
      if (isDone()) {
        return false;
      }
      JsonNode choices = json().path("choices");
      if (choices.isEmpty()) {
        return false;
      }
      JsonNode c = choices.get(0);
      String text =
          c.has("delta") ? c.path("delta").path("content").asText("") : c.path("text").asText("");
      return !text.isEmpty();
    }
  }

  record Streamed(
      int status, String contentType, long sentNanos, List<Event> events, Throwable failure) {
    List<Event> textEvents() {
      return events.stream().filter(Event::carriesText).toList();
    }

    long timeToFirstTokenNanos() {
      return textEvents().get(0).nanos() - sentNanos;
    }

    /** (t_last - t_first) / (N - 1) over text-carrying events. */
    double timePerOutputTokenNanos() {
      List<Event> t = textEvents();
      return (double) (t.get(t.size() - 1).nanos() - t.get(0).nanos()) / (t.size() - 1);
    }
  }
}

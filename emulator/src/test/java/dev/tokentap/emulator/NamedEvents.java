package dev.tokentap.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokentap.testkit.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * SSE with {@code event:} names (Responses API, Anthropic Messages), parsed strictly: every event
 * is exactly {@code event: NAME\ndata: JSON\n\n}, as the real servers send them.
 */
record NamedEvents(List<NamedEvents.Event> events) {

  record Event(String name, String data) {
    JsonNode json() {
      return TestClient.json(data);
    }
  }

  static NamedEvents parse(String body) {
    assertThat(body).matches("(?s)(event: [a-z_.]+\ndata: [^\n]+\n\n)*");
    List<Event> events = new ArrayList<>();
    for (String block : body.split("\n\n")) {
      if (block.isEmpty()) {
        continue;
      }
      String[] lines = block.split("\n");
      events.add(new Event(lines[0].substring(7), lines[1].substring(6)));
    }
    return new NamedEvents(events);
  }

  static NamedEvents fixture(String name) {
    return parse(new String(Fixtures.stream(name), StandardCharsets.UTF_8));
  }

  List<String> names() {
    return events.stream().map(Event::name).toList();
  }

  /** Event names, runs of one name collapsed: the shape of a stream, whatever its length. */
  List<String> shape() {
    List<String> shape = new ArrayList<>();
    for (String n : names()) {
      if (shape.isEmpty() || !shape.get(shape.size() - 1).equals(n)) {
        shape.add(n);
      }
    }
    return shape;
  }

  List<Event> named(String name) {
    return events.stream().filter(e -> e.name().equals(name)).toList();
  }

  Event first(String name) {
    return named(name).get(0);
  }

  /** The field names of a JSON object, sorted. */
  static TreeSet<String> keys(JsonNode object) {
    TreeSet<String> keys = new TreeSet<>();
    for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
      keys.add(it.next());
    }
    return keys;
  }

  static String body(Map<String, Object> fields) {
    try {
      return TestClient.JSON.writeValueAsString(fields);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package dev.tokentap.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A file of one JSON value per line (JSONL), each parsed into a {@code T}; blank lines are skipped. */
final class JsonLines {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonLines() {}

  /** Makes a {@code T} of one line's text; refuses it with an {@link IllegalArgumentException} saying what is wrong. */
  interface LineParser<T> {
    T parse(String line) throws IOException;
  }

  /** Makes a {@code T} of one line's JSON value. */
  interface NodeParser<T> {
    T parse(JsonNode node);
  }

  /** As {@link #readLines}, each line read as JSON first. */
  static <T> List<T> read(Path file, String expected, NodeParser<T> parse) throws IOException {
    return readLines(file, expected, line -> parse.parse(JSON.readTree(line)));
  }

  /**
   * Every non-blank line of {@code file} through {@code parse}; a line it refuses (or that is not
   * JSON) stops the reading with {@code file line N: what was wrong (expected)}, or without the
   * parenthesis when {@code expected} is null.
   */
  static <T> List<T> readLines(Path file, String expected, LineParser<T> parse) throws IOException {
    List<T> out = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String text;
      int lineNumber = 0;
      while ((text = in.readLine()) != null) {
        lineNumber++;
        if (text.isBlank()) {
          continue;
        }
        try {
          out.add(parse.parse(text));
        } catch (IOException | IllegalArgumentException e) {
          throw new IllegalArgumentException(file + " line " + lineNumber + ": " + e.getMessage() + (expected == null ? "" : " (" + expected + ")"), e);
        }
      }
    }
    return out;
  }
}

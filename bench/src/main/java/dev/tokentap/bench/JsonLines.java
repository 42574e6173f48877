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
import java.util.function.Function;

/** A file of one JSON value per line (JSONL), each parsed into a {@code T}; blank lines are skipped. */
final class JsonLines {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonLines() {}

  /**
   * Every line of {@code file} through {@code parse}; a line that is not JSON, or that {@code parse}
   * refuses with an {@link IllegalArgumentException}, stops the reading with {@code file line N:
   * what was wrong (expected)}.
   */
  static <T> List<T> read(Path file, String expected, Function<JsonNode, T> parse) throws IOException {
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
          out.add(parse.apply(JSON.readTree(text)));
        } catch (IOException | IllegalArgumentException e) {
          throw new IllegalArgumentException(file + " line " + lineNumber + ": " + e.getMessage() + " (" + expected + ")", e);
        }
      }
    }
    return out;
  }
}

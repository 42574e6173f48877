package dev.tokentap.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.meter.Route;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests read from a file, in order, cycling when the run needs more: a JSONL file of OpenAI
 * request bodies, or a ShareGPT-format JSON array (the first human turn is the prompt; the first gpt
 * turn's estimated length, {@code ceil(chars / 4)}, is {@code max_tokens}, as vLLM's ShareGPT
 * dataset uses the reply's length), or every turn of each conversation as a multi-turn chat
 * ({@link Conversation}): request {@code i} is then conversation {@code i}'s first turn, followed
 * by its later turns.
 *
 * <p>Every body is made streaming with {@code stream_options.include_usage}, so N comes from the
 * server; {@code --model} fills in a body without a model.
 */
public final class FileWorkload implements Workload {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String description;
  private final List<BenchRequest> requests;
  private final boolean multiTurn;

  private FileWorkload(String description, List<BenchRequest> requests, boolean multiTurn) {
    this.description = description;
    this.requests = List.copyOf(requests);
    this.multiTurn = multiTurn;
  }

  @Override
  public boolean multiTurn() {
    return multiTurn;
  }

  @Override
  public BenchRequest request(long index) {
    return requests.get((int) (index % requests.size()));
  }

  public int size() {
    return requests.size();
  }

  @Override
  public String describe() {
    return description;
  }

  /** One JSON object per line; blank lines are skipped; a bad line is named by its number. */
  public static FileWorkload jsonl(Path file, String model) throws IOException {
    List<BenchRequest> out = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
          throw new IllegalArgumentException(
              file + " line " + n + ": not JSON (" + e.getOriginalMessage() + ")");
        }
        if (!(node instanceof ObjectNode body)) {
          throw new IllegalArgumentException(file + " line " + n + ": expected a JSON object (a request body)");
        }
        out.add(fromBody(body, model, file + " line " + n));
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": no requests (expected one JSON request body per line)");
    }
    return new FileWorkload("jsonl(" + file.getFileName() + ", " + out.size() + " requests)", out, false);
  }

  /**
   * A ShareGPT JSON array: {@code [{"conversations": [{"from": "human", "value": …}, {"from": "gpt", …}]}]}.
   *
   * @param allTurns every turn of each conversation, in order, each with its history; otherwise
   *     only the first
   */
  public static FileWorkload shareGpt(Path file, String model, boolean allTurns) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not JSON (" + e.getOriginalMessage() + ")");
    }
    if (root == null || !root.isArray()) {
      throw new IllegalArgumentException(file + ": expected a ShareGPT JSON array of {\"conversations\": [...]}");
    }
    List<BenchRequest> out = new ArrayList<>();
    int skipped = 0;
    long turns = 0;
    for (JsonNode entry : root) {
      Conversation c = Conversation.parse(entry.path("conversations"), allTurns ? Integer.MAX_VALUE : 1);
      if (c == null) {
        skipped++;
        continue;
      }
      turns += c.turns();
      out.add(c.request(0, model, allTurns));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + ": no usable conversations (" + skipped
          + " skipped; expected a human turn followed by a gpt turn)");
    }
    String what = allTurns ? turns + " turns, all turns" : "first turn";
    return new FileWorkload("sharegpt(" + file.getFileName() + ", " + out.size() + " conversations, " + what
        + (skipped > 0 ? ", " + skipped + " skipped" : "") + ")", out, allTurns);
  }

  static BenchRequest fromBody(ObjectNode body, String model, String where) {
    Route route;
    String path;
    if (body.has("messages")) {
      route = Route.CHAT;
      path = "/v1/chat/completions";
    } else if (body.has("prompt")) {
      route = Route.COMPLETIONS;
      path = "/v1/completions";
    } else {
      throw new IllegalArgumentException(where + ": expected \"messages\" (chat) or \"prompt\" (completions)");
    }
    if (!body.path("model").isTextual()) {
      body.put("model", model);
    }
    body.put("stream", true);
    if (!body.has("stream_options")) {
      body.putObject("stream_options").put("include_usage", true);
    }
    int max = body.path("max_tokens").asInt(body.path("max_completion_tokens").asInt(-1));
    return new BenchRequest(path, route, body.get("model").asText(), Workloads.bytes(body), -1, max);
  }
}

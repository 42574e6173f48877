package dev.tokentap.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokentap.meter.Route;
import java.util.ArrayList;
import java.util.List;

/**
 * One ShareGPT conversation replayed as a multi-turn chat. Request {@code k} carries every message up
 * to the {@code k}-th human turn: earlier human turns as {@code user}, earlier gpt replies as {@code
 * assistant} with the dataset's text (not the server's answers, so every request is known before the
 * run), {@code system} turns as {@code system}. Its {@code max_tokens} is the estimated length,
 * {@code ceil(chars / 4)}, of the gpt reply that follows turn {@code k} in the dataset.
 */
final class Conversation {
  private static final ObjectMapper JSON = new ObjectMapper();

  record Message(String role, String content) {}

  /** Every message kept, in order; it ends with the last replied human turn's reply. */
  private final List<Message> messages;
  /** Where each replied human turn is in {@link #messages}. */
  private final int[] humanAt;

  private Conversation(List<Message> messages, int[] humanAt) {
    this.messages = List.copyOf(messages);
    this.humanAt = humanAt;
  }

  /**
   * Reads a {@code conversations} array, or returns null when it is malformed: a turn that is not
   * {@code {"from": "system"|"human"|"gpt", "value": TEXT}}, a gpt turn not answering a human one,
   * two human turns in a row, a system turn between a human turn and its reply, or no human turn
   * with a reply. A last human turn without a reply is dropped (nothing gives its length).
   *
   * @param maxTurns stop after this many replied human turns (and ignore what follows)
   */
  static Conversation parse(JsonNode turns, int maxTurns) {
    if (!turns.isArray()) {
      return null;
    }
    List<Message> messages = new ArrayList<>();
    List<Integer> humans = new ArrayList<>();
    boolean awaitingReply = false;
    for (JsonNode turn : turns) {
      if (humans.size() == maxTurns && !awaitingReply) {
        break;
      }
      JsonNode value = turn.path("value");
      if (!value.isTextual()) {
        return null;
      }
      String role;
      switch (turn.path("from").asText()) {
        case "system" -> {
          if (awaitingReply) {
            return null;
          }
          role = "system";
        }
        case "human" -> {
          if (awaitingReply) {
            return null;
          }
          awaitingReply = true;
          humans.add(messages.size());
          role = "user";
        }
        case "gpt" -> {
          if (!awaitingReply) {
            return null;
          }
          awaitingReply = false;
          role = "assistant";
        }
        default -> {
          return null;
        }
      }
      messages.add(new Message(role, value.asText()));
    }
    if (awaitingReply) {
      humans.remove(humans.size() - 1);
      messages.subList(humans.isEmpty() ? 0 : humans.get(humans.size() - 1) + 2, messages.size()).clear();
    }
    if (humans.isEmpty()) {
      return null;
    }
    return new Conversation(messages, humans.stream().mapToInt(Integer::intValue).toArray());
  }

  /** Replied human turns: the requests this conversation makes. */
  int turns() {
    return humanAt.length;
  }

  /** The messages request {@code k} carries (turn {@code k}'s human message last). */
  List<Message> history(int k) {
    return messages.subList(0, humanAt[k] + 1);
  }

  /** The dataset's reply to turn {@code k}. */
  String reply(int k) {
    return messages.get(humanAt[k] + 1).content();
  }

  /**
   * Request {@code k}; with {@code chained}, it is followed by request {@code k + 1} (built when
   * needed) up to the last turn.
   */
  BenchRequest request(int k, String model, boolean chained) {
    List<Message> history = history(k);
    int outputTokens = Workloads.estimateTokens(reply(k));
    ObjectNode body = JSON.createObjectNode();
    body.put("model", model);
    ArrayNode array = body.putArray("messages");
    // The emulator's chat rule: ceil(chars / 4) + 4 per message, + 2 for the reply header.
    int inputTokens = 2;
    for (Message m : history) {
      array.addObject().put("role", m.role()).put("content", m.content());
      inputTokens += Workloads.estimateTokens(m.content()) + 4;
    }
    body.put("max_tokens", outputTokens);
    body.put("stream", true);
    body.putObject("stream_options").put("include_usage", true);
    return new BenchRequest("/v1/chat/completions", Route.CHAT, model, Workloads.bytes(body), inputTokens, outputTokens,
        chained && k + 1 < turns() ? () -> request(k + 1, model, true) : null);
  }
}

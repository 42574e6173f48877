package dev.tokentap.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokentap.meter.Api;

/**
 * Where each API puts the output text and tool calls, in a stream event or a whole body
 * (research/wire-formats.md): only choice 0 (OpenAI) or the first output is read. TGI and Triton
 * responses give no text here: their pairs compare counts and finish reasons only.
 */
final class OutputEvents {
  private OutputEvents() {}

  static void read(Api api, JsonNode node, SideOutput out) {
    switch (api) {
      case OPENAI -> openAi(node, out);
      case ANTHROPIC -> anthropic(node, out);
      case OPENAI_RESPONSES -> responses(node, out);
      case OLLAMA -> ollama(node, out);
      default -> {}
    }
  }

  /** Chat completions (delta or message; content and tool_calls) and completions (text). */
  private static void openAi(JsonNode node, SideOutput out) {
    JsonNode choice = node.path("choices").path(0);
    if (choice.path("index").asInt(0) != 0) {
      return;
    }
    JsonNode message = choice.has("delta") ? choice.get("delta") : choice.path("message");
    out.appendText(text(message.get("content")));
    out.appendText(text(choice.get("text")));
    JsonNode calls = message.path("tool_calls");
    for (int i = 0; i < calls.size(); i++) {
      JsonNode call = calls.get(i);
      int index = call.has("index") ? call.get("index").asInt() : i;
      out.toolCall(index, text(call.path("function").get("name")));
      out.appendArguments(index, text(call.path("function").get("arguments")));
    }
  }

  /** Messages: text and tool_use blocks, streamed as content_block_start / content_block_delta. */
  private static void anthropic(JsonNode node, SideOutput out) {
    String type = node.path("type").asText("");
    switch (type) {
      case "content_block_start" -> {
        JsonNode block = node.path("content_block");
        if (block.path("type").asText("").equals("tool_use")) {
          out.toolCall(out.toolCallCount(), text(block.get("name")));
        }
      }
      case "content_block_delta" -> {
        JsonNode delta = node.path("delta");
        out.appendText(text(delta.get("text")));
        if (delta.has("partial_json")) {
          out.appendArguments(Math.max(0, out.toolCallCount() - 1), text(delta.get("partial_json")));
        }
      }
      case "message" -> {
        for (JsonNode block : node.path("content")) {
          if (block.path("type").asText("").equals("tool_use")) {
            int index = out.toolCallCount();
            out.toolCall(index, text(block.get("name")));
            out.appendArguments(index, block.path("input").toString());
          } else {
            out.appendText(text(block.get("text")));
          }
        }
      }
      default -> {}
    }
  }

  /** Responses: output_text deltas and function calls; a whole body's output items. */
  private static void responses(JsonNode node, SideOutput out) {
    String type = node.path("type").asText("");
    if (type.equals("response.output_text.delta")) {
      out.appendText(text(node.get("delta")));
    } else if (type.equals("response.output_item.added") && node.path("item").path("type").asText("").equals("function_call")) {
      out.toolCall(out.toolCallCount(), text(node.path("item").get("name")));
    } else if (type.equals("response.function_call_arguments.delta")) {
      out.appendArguments(Math.max(0, out.toolCallCount() - 1), text(node.get("delta")));
    } else if (node.path("object").asText("").equals("response")) {
      for (JsonNode item : node.path("output")) {
        if (item.path("type").asText("").equals("function_call")) {
          int index = out.toolCallCount();
          out.toolCall(index, text(item.get("name")));
          out.appendArguments(index, text(item.get("arguments")));
        }
        for (JsonNode part : item.path("content")) {
          out.appendText(text(part.get("text")));
        }
      }
    }
  }

  /** Ollama /api/chat (message) and /api/generate (response), streamed or not. */
  private static void ollama(JsonNode node, SideOutput out) {
    out.appendText(text(node.get("response")));
    JsonNode message = node.path("message");
    out.appendText(text(message.get("content")));
    for (JsonNode call : message.path("tool_calls")) {
      int index = out.toolCallCount();
      out.toolCall(index, text(call.path("function").get("name")));
      out.appendArguments(index, call.path("function").path("arguments").toString());
    }
  }

  private static String text(JsonNode node) {
    return node == null || !node.isTextual() ? null : node.textValue();
  }
}

package dev.tokentap.emulator;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * What a chat request asks its output to be besides text: a call to one of its {@code tools}, or a
 * JSON object ({@code response_format} {@code json_object} or {@code json_schema}). The emulator
 * answers a request with tools by calling one of them (unless {@code tool_choice} is {@code
 * "none"}), with arguments whose keys are the function's {@code parameters.properties}; a JSON
 * request with an object whose keys are the schema's {@code properties} ({@code answer} without a
 * schema). Values are vocabulary words ({@link OutputPlan}).
 *
 * @param tools the functions the request offers, in order; empty when none may be called
 * @param jsonKeys the keys of the JSON object asked for; null when no JSON was asked for
 */
record OutputFormat(List<Tool> tools, List<String> jsonKeys) {

  static final OutputFormat TEXT = new OutputFormat(List.of(), null);

  /** One function a request offers: its name and the keys of its parameters. */
  record Tool(String name, List<String> keys) {}

  OutputFormat {
    tools = List.copyOf(tools);
    jsonKeys = jsonKeys == null ? null : List.copyOf(jsonKeys);
  }

  boolean callsTool() {
    return !tools.isEmpty();
  }

  boolean json() {
    return jsonKeys != null;
  }

  /** Reads {@code tools}, {@code tool_choice} and {@code response_format} of a chat request. */
  static OutputFormat of(JsonNode body) {
    List<Tool> tools = new ArrayList<>();
    JsonNode choice = body.get("tool_choice");
    boolean none = choice != null && choice.isTextual() && choice.textValue().equals("none");
    JsonNode list = body.get("tools");
    if (list != null && list.isArray() && !none) {
      for (JsonNode t : list) {
        JsonNode function = t.get("function");
        JsonNode name = function == null ? null : function.get("name");
        if (name == null || !name.isTextual()) {
          throw new InvalidRequestException("tools[].function.name: missing (expected: a string)");
        }
        tools.add(new Tool(name.textValue(), keys(function.get("parameters"), "input")));
      }
    }
    List<String> jsonKeys = null;
    JsonNode format = body.get("response_format");
    JsonNode type = format == null ? null : format.get("type");
    if (type != null && type.isTextual()) {
      switch (type.textValue()) {
        case "json_object" -> jsonKeys = List.of("answer");
        case "json_schema" -> {
          JsonNode schema = format.path("json_schema").get("schema");
          jsonKeys = keys(schema, "answer");
        }
        default -> {}
      }
    }
    return tools.isEmpty() && jsonKeys == null ? TEXT : new OutputFormat(tools, jsonKeys);
  }

  /** The property names of a JSON schema object, or {@code fallback} alone when it names none. */
  private static List<String> keys(JsonNode schema, String fallback) {
    List<String> keys = new ArrayList<>();
    JsonNode properties = schema == null ? null : schema.get("properties");
    if (properties != null && properties.isObject()) {
      properties.fieldNames().forEachRemaining(keys::add);
    }
    return keys.isEmpty() ? List.of(fallback) : keys;
  }
}

package dev.tokentap.emulator;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBufInputStream;
import io.netty.handler.codec.http.FullHttpRequest;
import java.io.IOException;

/**
 * Turns one HTTP request to a generation endpoint into what the exchange needs: the API-neutral
 * {@link GenerationRequest} and the emulator's own headers ({@value #FAULT_HEADER}, {@value
 * #TOKENS_PER_CHUNK_HEADER}), or an {@link InvalidRequestException} naming the problem.
 */
final class GenerationRequestReader {

  static final String FAULT_HEADER = "x-emulator-fault";
  static final String TOKENS_PER_CHUNK_HEADER = "x-emulator-tokens-per-chunk";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private GenerationRequestReader() {}

  /** A request ready to run. */
  record Read(GenerationRequest request, FaultSpec fault, int tokensPerChunk) {}

  static Read read(FullHttpRequest http, ApiFraming framing, EmulatorSettings settings) {
    FaultSpec fault = fault(http, settings);
    int tokensPerChunk =
        tokensPerChunk(http.headers().get(TOKENS_PER_CHUNK_HEADER), settings.tokensPerChunk());
    GenerationRequest request = framing.parse(readJson(http), settings);
    checkFits(request, settings.profile());
    return new Read(request, fault, tokensPerChunk);
  }

  /** The request's {@value #FAULT_HEADER}, or the configured fault when it has none. */
  static FaultSpec fault(FullHttpRequest http, EmulatorSettings settings) {
    String header = http.headers().get(FAULT_HEADER);
    String spec = header != null ? header : settings.defaultFault();
    try {
      return FaultSpec.parse(spec);
    } catch (IllegalArgumentException e) {
      throw new InvalidRequestException(
          (header != null ? FAULT_HEADER : "tokentap.emulator.fault") + ": " + e.getMessage());
    }
  }

  private static int tokensPerChunk(String header, int configured) {
    if (header == null) {
      return configured;
    }
    try {
      int n = Integer.parseInt(header.trim());
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw new InvalidRequestException(
        TOKENS_PER_CHUNK_HEADER + ": " + header + " (expected: an integer >= 1)");
  }

  /** The body, which must be a JSON object. */
  static JsonNode readJson(FullHttpRequest http) {
    JsonNode body;
    try (ByteBufInputStream in = new ByteBufInputStream(http.content())) {
      body = MAPPER.readTree(in);
    } catch (JacksonException e) {
      throw new InvalidRequestException(
          "The request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new InvalidRequestException("The request body could not be read: " + e.getMessage());
    }
    if (body == null || !body.isObject()) {
      throw new InvalidRequestException("The request body must be a JSON object");
    }
    return body;
  }

  /** A request the engine could never admit would block the queue forever: refuse it now. */
  private static void checkFits(GenerationRequest r, EngineProfile profile) {
    if (r.kvReservation() > profile.kvCacheTokens()) {
      throw new InvalidRequestException(
          "This request needs "
              + r.kvReservation()
              + " KV-cache tokens (prompt "
              + r.promptTokens()
              + " + n "
              + r.n()
              + " × max_tokens "
              + r.maxTokens()
              + ") but the engine has "
              + profile.kvCacheTokens()
              + ". Please reduce the length of the messages or completion.");
    }
    if (r.n() > profile.maxNumSeqs()) {
      throw new InvalidRequestException(
          "n: "
              + r.n()
              + " (expected: <= "
              + profile.maxNumSeqs()
              + ", the engine's max-num-seqs)");
    }
  }
}

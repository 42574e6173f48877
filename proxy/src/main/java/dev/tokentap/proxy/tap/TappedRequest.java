package dev.tokentap.proxy.tap;

import dev.tokentap.meter.Api;
import dev.tokentap.meter.Route;
import java.util.List;
import java.util.Map;

/**
 * A read-only copy of one client request as tokentap relays it upstream: nothing here is shared
 * with the relay (no {@code ByteBuf} crosses threads), so a tap may keep it as long as it likes.
 *
 * @param uri the request target as the client sent it (path and query)
 * @param route the route label, as metered
 * @param model the model the body (or the path) names, or null
 * @param headers the client's end-to-end headers, in order (hop-by-hop ones removed)
 * @param body the body as sent upstream (with {@code usage-injection} applied), or null when it was
 *     too large to read
 * @param usageInjected whether the body asks for usage the client did not ask for
 * @param bodyLength the body's length, declared or read so far, where known; -1 otherwise
 * @param arrivalNanos when the proxy read the request's first byte ({@link System#nanoTime()})
 */
public record TappedRequest(
    String method,
    String uri,
    Route route,
    Api api,
    String model,
    List<Map.Entry<String, String>> headers,
    byte[] body,
    boolean usageInjected,
    long bodyLength,
    long arrivalNanos) {}

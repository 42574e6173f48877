package dev.tokentap.proxy.config;

import static java.util.Objects.requireNonNull;

import dev.tokentap.meter.Api;
import dev.tokentap.meter.Route;

/**
 * One entry of {@code tokentap.routes}: request paths that match it get this {@code route} label
 * and have their responses read as {@code api}.
 *
 * @param path an exact path whose segments may be {@code {model}} (any one segment, taken as the
 *     model name, as Triton puts it in the path) or {@code *} (any one segment); or, with {@code
 *     prefix}, a path prefix
 * @param prefix whether {@code path} is a prefix ({@code path-prefix} in configuration)
 */
public record RouteRule(String path, boolean prefix, Route route, Api api) {
  public RouteRule {
    requireNonNull(path, "path");
    requireNonNull(route, "route");
    requireNonNull(api, "api");
  }
}

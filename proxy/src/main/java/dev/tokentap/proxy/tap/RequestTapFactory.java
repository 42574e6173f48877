package dev.tokentap.proxy.tap;

import dev.tokentap.proxy.record.RequestRecorder;

/** Starts a {@link RequestTap} that measures what it sends with the proxy's own recorder. */
@FunctionalInterface
public interface RequestTapFactory {
  RequestTap start(RequestRecorder recorder) throws Exception;
}

package dev.tokentap.testkit;

import java.io.IOException;
import java.io.OutputStream;

/** Writes to two streams: a test's output still shows, and the copy can be searched. */
public final class TeeStream extends OutputStream {
  private final OutputStream a;
  private final OutputStream b;

  public TeeStream(OutputStream a, OutputStream b) {
    this.a = a;
    this.b = b;
  }

  @Override
  public void write(int x) throws IOException {
    a.write(x);
    b.write(x);
  }

  @Override
  public void write(byte[] bytes, int off, int len) throws IOException {
    a.write(bytes, off, len);
    b.write(bytes, off, len);
  }
}

package dev.tokentap.proxy.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tokentap.proxy.config.UpstreamUri;
import dev.tokentap.proxy.relay.Transports;
import dev.tokentap.testkit.RawUpstream;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link ConnectionPool} through real sockets: reuse, the idle limit and its closes, fresh connections, the bounds. */
class ConnectionPoolTest {
  private EventLoopGroup group;
  private EventLoop loop;
  private RawUpstream upstream;

  @BeforeEach
  void start() throws Exception {
    group = Transports.newGroup(1, "pool-test");
    loop = group.next();
    upstream = new RawUpstream((r, c) -> {});
  }

  @AfterEach
  void stop() throws Exception {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    upstream.close();
  }

  private ConnectionPool pool(Duration idleReuse, int maxConnections, int maxPending) {
    return new ConnectionPool(loop, UpstreamUri.parse(upstream.baseUrl()), null,
        new ConnectionPool.Limits(Duration.ofSeconds(5), idleReuse, maxConnections, maxPending, 8192));
  }

  private <T> T onLoop(Callable<T> task) throws Exception {
    return loop.submit(task).get(10, TimeUnit.SECONDS);
  }

  private Channel acquire(ConnectionPool pool, boolean fresh) throws Exception {
    Future<Channel> f = onLoop(() -> pool.acquire(fresh));
    return f.get(10, TimeUnit.SECONDS);
  }

  private void release(ConnectionPool pool, Channel ch) throws Exception {
    onLoop(() -> { pool.release(ch); return null; });
  }

  /** The upstream's accept thread counts after the client's connect completes: wait for it. */
  private void assertAccepted(int expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (upstream.connectionsAccepted() < expected && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    Thread.sleep(50); // and no more than that
    assertThat(upstream.connectionsAccepted()).isEqualTo(expected);
  }

  @Test
  void aReleasedConnectionIsReusedAndMarkedReused() throws Exception {
    ConnectionPool pool = pool(Duration.ofSeconds(4), 8, 8);
    Channel first = acquire(pool, false);
    assertThat(ConnectionPool.reused(first)).isFalse();
    assertThat(first.pipeline().names()).containsSubsequence("read-clock", "http", "response");
    release(pool, first);
    Channel second = acquire(pool, false);
    assertThat(second).isSameAs(first);
    assertThat(ConnectionPool.reused(second)).isTrue();
    assertAccepted(1);
  }

  @Test
  void aFreshAcquireNeverTakesAnIdleConnection() throws Exception {
    ConnectionPool pool = pool(Duration.ofSeconds(4), 8, 8);
    Channel first = acquire(pool, false);
    release(pool, first);
    Channel fresh = acquire(pool, true);
    assertThat(fresh).isNotSameAs(first);
    assertAccepted(2);
  }

  @Test
  void aConnectionIdlePastTheLimitIsClosedNotReused() throws Exception {
    ConnectionPool pool = pool(Duration.ofMillis(100), 8, 8);
    Channel first = acquire(pool, false);
    release(pool, first);
    Thread.sleep(250);
    Channel second = acquire(pool, false);
    assertThat(second).isNotSameAs(first);
    assertThat(first.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
    assertAccepted(2);
  }

  @Test
  void idleConnectionsAreClosedWhenTheyReachTheLimitWithNoAcquireToMeetThem() throws Exception {
    // After a burst the connections it opened must not stay open on a server that never closes idle ones.
    ConnectionPool pool = pool(Duration.ofMillis(200), 100, 8);
    java.util.List<Channel> burst = new java.util.ArrayList<>();
    for (int i = 0; i < 50; i++) {
      burst.add(onLoop(() -> pool.acquire(false)).get(10, TimeUnit.SECONDS));
    }
    onLoop(() -> { burst.forEach(pool::release); return pool.idle(); });
    for (Channel ch : burst) {
      assertThat(ch.closeFuture().await(5, TimeUnit.SECONDS)).as("closed at the idle limit").isTrue();
    }
    assertThat(onLoop(pool::idle)).isZero();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (upstream.connectionsClosedByPeer() < 50 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(upstream.connectionsClosedByPeer()).as("the server saw every one closed").isEqualTo(50);
    // The pool still works: a new connection, not a closed one.
    Channel next = acquire(pool, false);
    assertThat(next.isActive()).isTrue();
    assertAccepted(51);
  }

  @Test
  void aConnectionReusedWithinTheLimitIsKeptItsAgeCountingFromItsLastUse() throws Exception {
    ConnectionPool pool = pool(Duration.ofMillis(1000), 8, 8);
    Channel ch = acquire(pool, false);
    release(pool, ch);
    Thread.sleep(600);
    assertThat(acquire(pool, false)).isSameAs(ch);
    release(pool, ch);
    Thread.sleep(600); // 1.2 s after the first release, 0.6 s after the last
    assertThat(ch.isActive()).as("idle 0.6 s of its 1 s").isTrue();
    assertThat(ch.closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(onLoop(pool::idle)).isZero();
    assertAccepted(1);
  }

  @Test
  void pastTheConnectionLimitAcquiresWaitThenFailWhenTheQueueIsFull() throws Exception {
    ConnectionPool pool = pool(Duration.ofSeconds(4), 1, 1);
    Channel only = acquire(pool, false);
    Future<Channel> waiting = onLoop(() -> pool.acquire(false));
    Future<Channel> refused = onLoop(() -> pool.acquire(false));
    assertThat(refused.await(5, TimeUnit.SECONDS)).isTrue();
    assertThat(refused.cause()).isInstanceOf(ConnectionPool.PoolExhaustedException.class);
    assertThat(onLoop(pool::pending)).isEqualTo(1);
    assertThat(waiting.isDone()).isFalse();
    release(pool, only);
    assertThat(waiting.get(5, TimeUnit.SECONDS)).as("the waiter gets the released connection").isSameAs(only);
    // A slot freed by a close goes to the next waiter as a new connection.
    Future<Channel> next = onLoop(() -> pool.acquire(false));
    only.close().syncUninterruptibly();
    assertThat(next.get(5, TimeUnit.SECONDS)).isNotSameAs(only);
    assertAccepted(2);
  }

  @Test
  void aRefusedConnectionFailsTheAcquire() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    ConnectionPool pool = new ConnectionPool(loop, UpstreamUri.parse("http://127.0.0.1:" + port), null,
        ConnectionPool.Limits.unbounded(Duration.ofSeconds(5)));
    Future<Channel> f = onLoop(() -> pool.acquire(false));
    assertThat(f.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(f.cause()).isInstanceOf(java.net.ConnectException.class);
  }
}

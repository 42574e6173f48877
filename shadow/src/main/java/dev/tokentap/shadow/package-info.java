/**
 * Shadow traffic: mirroring and amplifying live requests to staging targets, isolated per target.
 *
 * <p>{@link dev.tokentap.shadow.ShadowEngine} is the proxy's request tap; each staging target owns
 * its event loops, connection pools, bounded queue, bulkhead, rate limiter and circuit breaker, and
 * every copy's response goes through the same stream meter as production's, labelled {@code
 * role="shadow"}.
 */
package dev.tokentap.shadow;

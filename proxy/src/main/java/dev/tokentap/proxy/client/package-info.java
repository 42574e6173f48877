/**
 * The one upstream client: how the relay, the shadow engine and the bench reach an inference
 * server, so an optimisation or a fix lands in all three and their numbers come from the same code.
 *
 * <ul>
 *   <li>{@link dev.tokentap.proxy.client.ConnectionPool}: keep-alive connections per event loop,
 *       connect and idle-reuse limits, TLS verified before a connection is handed out; {@link
 *       dev.tokentap.proxy.client.ConnectionPools} makes one per loop.
 *   <li>{@link dev.tokentap.proxy.client.ReadClock}: the time of each socket read, before any
 *       decoder (the clock every metric is read from).
 *   <li>{@link dev.tokentap.proxy.client.ResponseDispatcher}: hands a connection's decoded response
 *       to the {@link dev.tokentap.proxy.client.ResponseListener} bound to it.
 *   <li>{@link dev.tokentap.proxy.client.MeteredCall}: a request sent whole and its response metered
 *       into one {@link dev.tokentap.proxy.record.RequestRecord} and discarded (shadow copies, bench
 *       requests). The relay's {@code Exchange} is the other listener: it relays what it meters.
 *   <li>{@link dev.tokentap.proxy.client.TlsContexts}: client (and listener) TLS contexts.
 * </ul>
 *
 * <pre>
 *   upstream socket → [tls] → ReadClock → UpstreamHttpCodec → ResponseDispatcher → Exchange | MeteredCall
 * </pre>
 */
package dev.tokentap.proxy.client;

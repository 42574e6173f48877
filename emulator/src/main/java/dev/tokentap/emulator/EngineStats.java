package dev.tokentap.emulator;

/**
 * A snapshot of the engine, as vLLM's gauges report it.
 *
 * @param running sequences admitted to the batch (a request with n choices counts n)
 * @param waiting sequences queued for admission
 * @param kvCacheUsage reserved fraction of the KV-cache budget, 0..1 (reservations, prompt + n ×
 *     max_tokens, are what admission checks)
 * @param requestsTotal generation requests accepted since start (including ones a fault answered)
 * @param cancelledTotal of those, the ones whose client went away before they finished
 */
public record EngineStats(
    int running, int waiting, double kvCacheUsage, long requestsTotal, long cancelledTotal) {}

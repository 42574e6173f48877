/**
 * Shadow traffic: mirroring and amplifying live requests to staging targets, isolated per target.
 *
 * <p>Placeholder until the shadow issue lands; the module exists so the build layout is final.
 */
package dev.tokentap.shadow;

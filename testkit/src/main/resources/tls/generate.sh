#!/bin/sh
# Regenerates the test PKI in this folder (run from it). For tests only: the keys are public.
# EC P-256 keys in unencrypted PKCS#8 PEM, certificates valid for 100 years.
set -eu
days=36500
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# The test CA: trusted by the tests through tokentap.upstream.tls.ca-file. Its key is not kept.
key "$work/ca-key.pem"
openssl req -x509 -new -key "$work/ca-key.pem" -sha256 -days $days -subj "/CN=Tokentap Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

# leaf NAME SAN [CA-CERT CA-KEY]: a server certificate signed by the CA (self-signed without one).
leaf() {
  key "$1-key.pem"
  openssl req -new -key "$1-key.pem" -subj "/CN=$1" -out "$work/$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$2" > "$work/$1.ext"
  if [ $# -gt 2 ]; then
    openssl x509 -req -in "$work/$1.csr" -CA "$3" -CAkey "$4" -CAcreateserial -CAserial "$work/serial" \
      -sha256 -days $days -extfile "$work/$1.ext" -out "$1.pem"
  else
    openssl x509 -req -in "$work/$1.csr" -signkey "$1-key.pem" -sha256 -days $days -extfile "$work/$1.ext" -out "$1.pem"
  fi
}

leaf localhost "DNS:localhost,IP:127.0.0.1,IP:::1" ca.pem "$work/ca-key.pem"
leaf wrong-host "DNS:wrong-host.invalid" ca.pem "$work/ca-key.pem"
leaf untrusted "DNS:localhost,IP:127.0.0.1,IP:::1"

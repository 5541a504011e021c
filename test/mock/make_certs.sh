#!/bin/sh
# make_certs.sh OUTDIR - test certificates for the mock VTJ server (openssl CLI, no passphrases).
#
# Creates in OUTDIR:
#   ca.crt ca.key                 test CA
#   server.crt server.key         server certificate signed by the CA, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   client.crt client.key         client certificate (clientAuth) signed by the CA
#   other-ca.crt other-ca.key     a second, unrelated CA (wrong-CA tests)
#   other-client.crt other-client.key   a client certificate signed by the unrelated CA
# Existing files are overwritten. Prints nothing unless something fails.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUT=$1
mkdir -p "$OUT"
cd "$OUT"
umask 077

q() {
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" >&2
        echo "make_certs.sh: failed: $*" >&2
        exit 1
    fi
}

DAYS=3650
KEY="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

make_ca() {  # name CN
    q openssl req -x509 $KEY -keyout "$1.key" -out "$1.crt" -days $DAYS -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

make_leaf() {  # name CN CA extfile-contents
    q openssl req $KEY -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
    printf '%s\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' "$4" > "$1.ext"
    q openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -out "$1.crt" \
        -days $DAYS -extfile "$1.ext"
    rm -f "$1.csr" "$1.ext"
}

make_ca ca "pg_vtj mock test CA"
make_ca other-ca "pg_vtj unrelated test CA"
make_leaf server localhost ca "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
make_leaf client "pg_vtj test client" ca "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
make_leaf other-client "pg_vtj unrelated client" other-ca "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
rm -f ca.srl other-ca.srl
chmod 600 ./*.key
chmod 644 ./*.crt

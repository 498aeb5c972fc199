#!/bin/sh
# Regenerates the test-only TLS material the TLS tests use (valid 100 years; never use it
# anywhere else): a CA, a server certificate for 127.0.0.1 and localhost signed by it, a client
# certificate (common name "root") signed by it, one with common name "alice" (a user limited by
# auth, for the certificate-as-user cases), and a second, unrelated CA with a client
# certificate of its own, for the "wrong CA" cases, and a server certificate of that CA (the
# certificate a reload swaps in).
set -eu
cd "$(dirname "$0")"
days=36500
make_ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1-key.pem" -out "$1.pem" -days $days -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
make_leaf() { # name ca cn extensions
    openssl req -newkey rsa:2048 -nodes -keyout "$1-key.pem" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
    printf '%s\n' "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2-key.pem" -CAcreateserial -out "$1.pem" -days $days \
        -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext" "$2.srl"
}
make_ca ca "cairn test CA"
make_ca other-ca "unrelated test CA"
make_leaf server ca "cairn test server" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
make_leaf client ca "root" "extendedKeyUsage=clientAuth"
make_leaf alice-client ca "alice" "extendedKeyUsage=clientAuth"
make_leaf other-client other-ca "root" "extendedKeyUsage=clientAuth"
make_leaf other-server other-ca "renewed test server" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
chmod 0644 ./*.pem

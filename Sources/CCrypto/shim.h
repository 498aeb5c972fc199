#ifndef CAIRN_CCRYPTO_SHIM_H
#define CAIRN_CCRYPTO_SHIM_H
// OpenSSL's libcrypto (Debian libssl-dev): SHA-1 for etcd-compatible member and cluster ids,
// SHA-256 for snapshot checksums, PBKDF2 for auth passwords, AES-256-GCM and HKDF for
// encrypted snapshots.
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#endif

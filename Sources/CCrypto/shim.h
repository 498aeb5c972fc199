#ifndef CAIRN_CCRYPTO_SHIM_H
#define CAIRN_CCRYPTO_SHIM_H
// OpenSSL's libcrypto (Debian libssl-dev): SHA-1 for etcd-compatible member and cluster ids,
// SHA-256 for snapshot checksums.
#include <openssl/sha.h>
#include <openssl/evp.h>
#endif

#ifndef CAIRN_CZSTD_SHIM_H
#define CAIRN_CZSTD_SHIM_H
// libzstd (Debian libzstd-dev): the compression of snapshot archives.
#include <zstd.h>
#include <zstd_errors.h>
#endif

#ifndef CAIRN_CARCHIVE_SHIM_H
#define CAIRN_CARCHIVE_SHIM_H
// libarchive (Debian libarchive-dev): the tar container of snapshot archives.
#include <archive.h>
#include <archive_entry.h>
#endif

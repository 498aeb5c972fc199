#ifndef CAIRN_CLMDB_SHIM_H
#define CAIRN_CLMDB_SHIM_H

#include <lmdb.h>

/* The free-page database is handle 0 and the main database handle 1 in every LMDB
   environment; lmdb.h only names them inside mdb.c. */
static inline MDB_dbi cairn_mdb_free_dbi(void) { return 0; }
static inline MDB_dbi cairn_mdb_main_dbi(void) { return 1; }

#endif

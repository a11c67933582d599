#ifndef DVIC_CSQLITE_SHIM_H
#define DVIC_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot
// import; binding text or blobs needs it so SQLite copies the bytes before the
// Swift buffer goes away.
static inline sqlite3_destructor_type dvic_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

// sqlite3_config is variadic, which Swift cannot call. Memory statistics make every
// SQLite malloc take a global mutex; we never read them. Must run before SQLite
// initializes (before the first connection opens); later it returns SQLITE_MISUSE
// and changes nothing, which is harmless.
static inline int dvic_sqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif

#ifndef DVIC_CZLIB_SHIM_H
#define DVIC_CZLIB_SHIM_H
#include <zlib.h>

// zlib's init functions are macros over the *_ functions that take the library
// version and stream size; Swift cannot call the macros, so these wrap them.
static inline int dvic_deflateInit2(z_streamp strm, int level, int method, int windowBits, int memLevel, int strategy) {
    return deflateInit2(strm, level, method, windowBits, memLevel, strategy);
}
static inline int dvic_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif

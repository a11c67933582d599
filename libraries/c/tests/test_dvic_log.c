/* C99 tests of dvic_log.h: the shared cases of suite.h. See run-tests. */
#include "suite.h"

int main(void) {
    unsetenv("DVIC_LOG_DIR");
    unsetenv("DVIC_LOG_MAX_BYTES");
    t_run_all();
    return t_finish("c");
}

// C++11 tests of dvic_log.h: the shared cases of suite.h, compiled as C++, plus a
// std::thread check. See run-tests.
#include "suite.h"

#include <string>
#include <thread>
#include <vector>

static void case_std_threads() {
    char *dir = t_mkdtemp();
    char paths[T_MAX_FILES][256];
    dvic_log_t *log = dvic_log_open_ex("std-threads", dir, 0);
    std::vector<std::thread> threads;
    for (int id = 0; id < T_THREADS; id++) {
        threads.emplace_back([log, id] {
            for (int i = 0; i < T_PER_THREAD; i++) {
                std::string pad(static_cast<size_t>(i % 97), 'x');
                dvic_log_info(log, "thread %d record %d %s", id, i, pad.c_str());
            }
        });
    }
    for (auto &t : threads) t.join();
    dvic_log_close(log);
    CHECK(t_list(dir, paths) == 1);
    t_check_threads_file(paths[0]);
    t_rmdir(dir);
}

int main() {
    unsetenv("DVIC_LOG_DIR");
    unsetenv("DVIC_LOG_MAX_BYTES");
    t_run_all();
    t_run("std::thread", case_std_threads);
    return t_finish("cpp");
}

#ifndef DVIC_CPTY_H
#define DVIC_CPTY_H

#include <spawn.h>
#include <sys/types.h>

/// Starts `path` with `argv` and `envp` on a new pseudo-terminal of `rows` x `cols`, as the leader
/// of a new session whose controlling terminal is that terminal (forkpty(3)).
///
/// `path` must be an absolute path: the child does nothing but async-signal-safe work between fork
/// and exec, so no PATH search happens there. `cwd` may be NULL. On success returns the child's pid
/// and stores the master side (close-on-exec) in `*master`; on failure returns -1 with errno set.
/// When exec fails the child exits with status 127.
pid_t dvic_pty_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                     unsigned short rows, unsigned short cols, int *master);

/// TIOCSWINSZ: sets the terminal's size, which sends SIGWINCH to its foreground process group.
int dvic_pty_set_window_size(int fd, unsigned short rows, unsigned short cols);

/// TIOCGWINSZ.
int dvic_pty_get_window_size(int fd, unsigned short *rows, unsigned short *cols);

/// posix_spawn(3) of `path` (searched in PATH when `search_path` is non-zero) as the leader of a new
/// process group, with default signal dispositions and an empty signal mask (the agent's process
/// ignores SIGPIPE, which a child must not inherit), stdin from /dev/null and stdout/stderr on the
/// given descriptors. Returns 0 and stores the pid, or an errno value (ENOENT when the program does
/// not exist).
int dvic_spawn(const char *path, char *const argv[], char *const envp[], int search_path,
               int stdout_fd, int stderr_fd, pid_t *pid);

/// Adds "close every descriptor from `lowfd` up" to `actions` (glibc 2.34's
/// posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does not export).
/// Returns 0, or an errno value (ENOSYS on an older C library).
int dvic_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int lowfd);

/// Marks every descriptor from `lowfd` up close-on-exec (close_range with CLOSE_RANGE_CLOEXEC,
/// else one fcntl per open descriptor), for an exec in place: libraries open descriptors that
/// are not (NIO's sockets and epoll sets), and the new image would hold them for its lifetime.
/// Returns 0 or an errno value.
int dvic_cloexec_from(int lowfd);

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so a child spawned meanwhile by
/// another thread does not inherit them.
int dvic_pipe_cloexec(int fds[2]);

/// The process's environment (`environ`), which Swift cannot reach on every C library.
char *const *dvic_environ(void);

#endif

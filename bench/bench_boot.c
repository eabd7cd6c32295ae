/*
 * bench/bench_boot.c - boot + load + unload of an empty driver.
 *
 * Target (issue "Foundation"): under 2 ms median in process. Reported beside
 * a baseline measured in the same run: starting a trivial process
 * (/bin/true), and the whole `wdmsim run` command as a user starts it.
 */
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <wdmsim/wdmsim.h>

#include "bench_util.h"

extern char **environ;

static uint64_t spawn_ns(char *const argv[])
{
    uint64_t t0 = bench_now_ns();
    pid_t pid;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return 0;
    int st;
    waitpid(pid, &st, 0);
    return bench_now_ns() - t0;
}

static uint64_t in_process_ns(const char *driver, FILE *sink)
{
    uint64_t t0 = bench_now_ns();
    struct wdmsim_config cfg = {.seed = 1, .out = sink};
    struct wdmsim_error err;
    wdmsim *sim;
    if (wdmsim_boot(&cfg, &sim, &err) != WDMSIM_OK ||
        wdmsim_load_driver(sim, driver, &err) != WDMSIM_OK ||
        wdmsim_unload_drivers(sim) != WDMSIM_OK) {
        fprintf(stderr, "bench_boot: %s\n", err.text);
        exit(1);
    }
    wdmsim_shutdown(sim);
    return bench_now_ns() - t0;
}

int main(void)
{
    enum { runs = 200 };
    static uint64_t base[runs], inproc[runs], whole[runs];
    const char *driver = WDMSIM_BENCH_DRIVERS "/hello.so";
    FILE *sink = fopen("/dev/null", "w");
    char *true_argv[] = {"/bin/true", NULL};
    char *run_argv[] = {WDMSIM_BENCH_BIN, "run", (char *)driver, NULL};

    in_process_ns(driver, sink); /* warm the page cache and dl caches */
    for (int i = 0; i < runs; i++) {
        base[i] = spawn_ns(true_argv);
        inproc[i] = in_process_ns(driver, sink);
    }
    /* the command prints DbgPrint output; send it away */
    fflush(stdout);
    int saved = dup(1);
    int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, 1);
    for (int i = 0; i < runs / 4; i++)
        whole[i] = spawn_ns(run_argv);
    dup2(saved, 1);
    close(null_fd);
    close(saved);

    uint64_t b = bench_median(base, runs), p = bench_median(inproc, runs),
             w = bench_median(whole, runs / 4);
    fprintf(stderr, "\nbench_boot: boot + load + unload of an empty driver (%d runs, medians)\n",
            runs);
    fprintf(stderr, "  %-44s %10.3f ms  1.00x\n", "baseline: spawn /bin/true", b / 1e6);
    fprintf(stderr, "  %-44s %10.3f ms  %.2fx   (target < 2 ms)\n",
            "wdmsim in process (boot+load+unload+shutdown)", p / 1e6, (double)p / b);
    fprintf(stderr, "  %-44s %10.3f ms  %.2fx\n", "wdmsim run hello.so (whole command)", w / 1e6,
            (double)w / b);
    fclose(sink);
    return 0;
}

/*
 * tools/wdmsim/inspect.c - `wdmsim run --inspect / --cmd`: the inspector's
 * prompt over wdmsim_inspect.
 *
 * Models: a kernel debugger's command window on a stopped target ("kd>"),
 * with GNU readline for editing and history. The commands themselves are
 * the host API's (src/host/inspect*.c, docs/inspect.md); this file only
 * reads lines.
 * Invariants: the machine runs nothing while the prompt is up; leaving the
 * prompt continues the run's shutdown (unload, report, exit status).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "inspect.h"

static int is_quit(const char *line)
{
    return !strcmp(line, "q") || !strcmp(line, "quit") || !strcmp(line, "g") ||
           !strcmp(line, "exit");
}

unsigned tool_inspect(wdmsim *sim, const char *const *cmds, unsigned ncmds, int interactive,
                      const char *where)
{
    unsigned failed = 0;
    fflush(stdout);
    printf("wdmsim inspect: %s\n", where);
    for (unsigned i = 0; i < ncmds; i++) {
        printf("kd> %s\n", cmds[i]);
        if (wdmsim_inspect(sim, cmds[i], stdout) != WDMSIM_OK)
            failed++;
    }
    fflush(stdout);
    if (!interactive)
        return failed;
    printf("Commands: help; q leaves the prompt and ends the run.\n");
    for (;;) {
        char *line = readline("kd> ");
        if (!line)
            break;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p) {
            add_history(p);
            if (is_quit(p)) {
                free(line);
                break;
            }
            wdmsim_inspect(sim, p, stdout);
            fflush(stdout);
        }
        free(line);
    }
    return failed;
}

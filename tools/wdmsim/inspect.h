/*
 * tools/wdmsim/inspect.h - the inspector's prompt (inspect.c).
 */
#ifndef WDMSIM_TOOL_INSPECT_H
#define WDMSIM_TOOL_INSPECT_H

#include <wdmsim/wdmsim.h>

/* Runs the ncmds commands (echoed after "kd> "), then, if interactive, a
 * readline prompt until "q", "quit" or end of input. where says why the
 * machine is being inspected. Returns the number of commands that failed
 * (unknown command or bad argument). */
unsigned tool_inspect(wdmsim *sim, const char *const *cmds, unsigned ncmds, int interactive,
                      const char *where);

#endif

/*
 * tools/wdmsim/reg.h - the `wdmsim reg` subcommand (reg.c), for main.c.
 */
#ifndef WDMSIM_TOOL_REG_H
#define WDMSIM_TOOL_REG_H

/* argv[0] is "reg". Returns the exit status. */
int cmd_reg(int argc, char **argv);

#endif

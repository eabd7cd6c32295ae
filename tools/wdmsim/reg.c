/*
 * tools/wdmsim/reg.c - `wdmsim reg`: registry files without running a driver.
 *
 *   wdmsim reg import --hive FILE.hiv FILE.reg
 *   wdmsim reg export [--hive FILE.hiv] [--reg FILE.reg] [--regedit4] [KEY]
 *   wdmsim reg query  [--hive FILE.hiv] [--reg FILE.reg] KEY [VALUE]
 *
 * KEY is "HKEY_LOCAL_MACHINE\SYSTEM\..." (HKLM, HKEY_USERS, HKU,
 * HKEY_CURRENT_USER, HKCU) or "\Registry\Machine\...". Exit status 0, or
 * 2 with a message naming the file, line and problem.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <wdmsim/wdmsim.h>

#include "reg.h"

static void reg_usage(FILE *out)
{
    fputs("usage: wdmsim reg import --hive FILE.hiv FILE.reg\n"
          "       wdmsim reg export [--hive FILE.hiv] [--reg FILE.reg] [--regedit4] [KEY]\n"
          "       wdmsim reg query  [--hive FILE.hiv] [--reg FILE.reg] KEY [VALUE]\n"
          "KEY: HKEY_LOCAL_MACHINE\\SYSTEM\\... (default for export: HKEY_LOCAL_MACHINE\\SYSTEM)\n",
          out);
}

int cmd_reg(int argc, char **argv)
{
    static const struct option opts[] = {
        {"hive", required_argument, NULL, 'H'},
        {"reg", required_argument, NULL, 'r'},
        {"regedit4", no_argument, NULL, '4'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) {
        reg_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    const char *hive = NULL, *reg = NULL;
    int version = 5, c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "H:r:4h", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            hive = optarg;
            break;
        case 'r':
            reg = optarg;
            break;
        case '4':
            version = 4;
            break;
        case 'h':
            reg_usage(stdout);
            return 0;
        default:
            reg_usage(stderr);
            return 2;
        }
    }
    char **rest = argv + 1 + optind;
    int nrest = argc - 1 - optind;
    struct wdmsim_error err = {{0}};
    int rc;
    if (!strcmp(sub, "import")) {
        if (nrest != 1 || !hive) {
            reg_usage(stderr);
            return 2;
        }
        rc = wdmsim_reg_import(hive, rest[0], &err);
    } else if (!strcmp(sub, "export")) {
        if (nrest > 1) {
            reg_usage(stderr);
            return 2;
        }
        rc = wdmsim_reg_export(hive, reg, nrest ? rest[0] : NULL, version, stdout, &err);
    } else if (!strcmp(sub, "query")) {
        if (nrest < 1 || nrest > 2) {
            reg_usage(stderr);
            return 2;
        }
        rc = wdmsim_reg_query(hive, reg, rest[0], nrest > 1 ? rest[1] : NULL, stdout, &err);
    } else {
        fprintf(stderr, "wdmsim reg: unknown subcommand '%s'\n", sub);
        reg_usage(stderr);
        return 2;
    }
    if (rc != WDMSIM_OK) {
        fprintf(stderr, "wdmsim reg %s: %s\n", sub, err.text);
        return 2;
    }
    return 0;
}

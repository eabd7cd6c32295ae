/*
 * src/cm/cm.h - the configuration manager: registry keys, values, handles,
 * the SYSTEM hive on disk, .reg files. The whole interface of src/cm to the
 * other layers.
 *
 * Models: the Windows registry as a driver sees it (spec/ke_rtl_registry.md
 * 9): one tree under \REGISTRY with MACHINE\{SYSTEM,SOFTWARE,HARDWARE} and
 * USER\.DEFAULT; \REGISTRY\MACHINE\SYSTEM\CurrentControlSet is a volatile
 * link to ControlSet001, as on Windows. Keys hold typed values; a driver
 * reaches them through handles whose granted access is checked on every
 * call. The SYSTEM subtree persists in a regf hive file written with
 * libhivex (hive.c); a flush is atomic (temporary file, fsync, rename,
 * directory fsync).
 * Invariants: a key's children are sorted by upcased name and names are
 * unique among siblings; a deleted key has no parent and no children and
 * lives on only while handles refer to it; volatile keys have only volatile
 * children and are never written to the hive.
 * Not modelled: security descriptors (kernel callers get the access they
 * ask for), notifications, transactions, hives other than SYSTEM on disk,
 * \REGISTRY\USER per-user hives (one .DEFAULT).
 * Docs: docs/registry.md.
 */
#ifndef WDMSIM_CM_H
#define WDMSIM_CM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vf_rule;

/* Windows' limits (docs "Registry element size limits"). */
enum {
    cm_max_key_name = 255,       /* characters in one key name */
    cm_max_value_name = 16383,   /* characters in a value name */
    cm_max_value_size = 1 << 20, /* wdmsim: bytes of one value (hivex writes no big-data cells) */
    cm_max_link_hops = 16,       /* symbolic links followed while opening one path */
    cm_max_depth = 512,          /* levels below \REGISTRY */
};

struct cm_value {
    uint16_t *name; /* not NUL-terminated; "" is the default value */
    uint16_t name_len;
    uint32_t type;
    uint8_t *data; /* size bytes, followed by two zero bytes (strings end safely) */
    uint32_t size;
};

struct cm_key {
    uint16_t *name;
    uint16_t name_len;
    struct cm_key *parent; /* NULL for \REGISTRY and for deleted keys */
    struct cm_key **sub;   /* sorted by cm_name_cmp */
    uint32_t nsub, capsub;
    struct cm_value *val; /* in creation order (enumeration order) */
    uint32_t nval, capval;
    uint16_t *cls; /* class name, or NULL */
    uint16_t cls_len;
    uint64_t last_write; /* FILETIME (100 ns since 1601) */
    uint32_t handles;    /* open handles to this key */
    bool is_volatile;
    bool is_link; /* REG_OPTION_CREATE_LINK: target in SymbolicLinkValue */
    bool deleted;
};

struct cm_handle {
    struct cm_key *key; /* NULL: free slot */
    uint32_t access;    /* granted access (generic rights mapped) */
};

/* A device instance that IoOpenDeviceRegistryKey / IoGetDeviceProperty know. */
struct cm_device {
    const void *pdo;       /* the DEVICE_OBJECT the PnP manager made */
    char instance[200];    /* e.g. "PCI\VEN_8086&DEV_100E\3&1&0" */
    char class_guid[39];   /* "{4d36e972-e325-11ce-bfc1-08002be10318}" or "" */
    unsigned driver_index; /* NNNN of Control\Class\{guid}\NNNN */
    uint32_t bus_number, address, ui_number;
};

struct cm {
    struct cm_key *root;      /* \REGISTRY */
    struct cm_handle *handle; /* slot i is HANDLE (i + 1) * 4 */
    uint32_t nhandle, caphandle;
    struct cm_device *device;
    uint32_t ndevice;
    char *hive_path; /* SYSTEM hive file, or NULL (not persisted) */
    bool dirty;      /* SYSTEM changed since the last flush */
    uint64_t clock;  /* last FILETIME handed out (deterministic) */
};

/* ---- lifetime (boot.c) --------------------------------------------------- */
/* Builds the standard tree. 0, or -1 when host memory runs out. */
int cm_init(struct cm *cm);
/* cm_init, then the hive (cm_hive_attach) and the .reg file
 * (cm_reg_import_file) when given. 0, or -1 with err (nothing left allocated). */
int cm_boot(struct cm *cm, const char *hive_path, const char *reg_path, char *err, size_t errlen);
/* Frees every key and handle (no flush: see cm_shutdown). */
void cm_fini(struct cm *cm);
/* Writes the SYSTEM hive if one is attached and changed; then cm_fini.
 * Returns 0, or -1 with err when the flush failed (state is freed anyway). */
int cm_shutdown(struct cm *cm, char *err, size_t errlen);
/* Recreates the standard keys after a hive load (keeps existing ones). */
int cm_reseed(struct cm *cm);
/* Creates ...\CurrentControlSet\Services\<service> (and nothing else) if
 * missing, before DriverEntry. 0 or -1 (host memory). */
int cm_ensure_service_key(struct cm *cm, const char *service);

/* ---- names (names.c) ----------------------------------------------------- */
/* Case-insensitive order of registry names (rtl_upcase: Latin-1 and the
 * other ranges src/rtl maps). */
int cm_name_cmp(const uint16_t *a, size_t an, const uint16_t *b, size_t bn);
bool cm_name_eq_ascii(const uint16_t *a, size_t an, const char *b);
/* UTF-8 <-> UTF-16 (host strings, hive names, .reg text). malloc'd result
 * (NUL-terminated), length in units in *len; NULL on bad input or memory. */
uint16_t *cm_utf8_to_w(const char *s, size_t n, size_t *len);
char *cm_w_to_utf8(const uint16_t *w, size_t n, size_t *len);
size_t cm_wcslen(const uint16_t *w);

/* ---- keys and values (key.c) --------------------------------------------- */
uint64_t cm_now(struct cm *cm);
struct cm_key *cm_key_child(const struct cm_key *k, const uint16_t *name, size_t n);
/* Adds a child (name must be absent and valid). NULL when memory runs out. */
struct cm_key *cm_key_add(struct cm *cm, struct cm_key *parent, const uint16_t *name, size_t n,
                          bool is_volatile);
/* Unlinks a childless key; frees it if no handle refers to it. */
void cm_key_delete(struct cm *cm, struct cm_key *k);
/* Frees a key whose last handle went away after deletion, or a subtree. */
void cm_key_free_tree(struct cm_key *k);
struct cm_value *cm_value_find(const struct cm_key *k, const uint16_t *name, size_t n);
/* Creates or replaces. Returns 0, -1 when memory runs out (key unchanged). */
int cm_value_set(struct cm *cm, struct cm_key *k, const uint16_t *name, size_t n, uint32_t type,
                 const void *data, uint32_t size);
/* 0, or -1 if absent. */
int cm_value_delete(struct cm *cm, struct cm_key *k, const uint16_t *name, size_t n);
/* Marks the key written (time) and the hive dirty when the key is persisted. */
void cm_key_touch(struct cm *cm, struct cm_key *k);
/* True if the key is in the SYSTEM hive and not volatile (persisted). */
bool cm_key_in_system_hive(const struct cm *cm, const struct cm_key *k);
/* True for keys under \REGISTRY\MACHINE\{HARDWARE,SOFTWARE,SYSTEM,SECURITY,SAM}. */
bool cm_key_trusted(const struct cm_key *k);
/* The full path "\REGISTRY\MACHINE\..." in 16-bit units; malloc'd. */
uint16_t *cm_key_path(const struct cm_key *k, size_t *len);

/* ---- paths (path.c) ------------------------------------------------------ */
enum cm_open_flags {
    cm_open_create = 1,      /* create the last component if missing */
    cm_open_volatile = 2,    /* ... as a volatile key */
    cm_open_link = 4,        /* do not follow a link in the last component */
    cm_open_create_link = 8, /* create the last component as a link key */
};
/* Resolves a path relative to base (NULL: absolute, must start with
 * \REGISTRY). Returns an NTSTATUS: STATUS_SUCCESS with *out (and *created),
 * or OBJECT_NAME_NOT_FOUND, OBJECT_NAME_INVALID, OBJECT_PATH_SYNTAX_BAD,
 * CHILD_MUST_BE_VOLATILE, OBJECT_NAME_COLLISION (create_link on an existing
 * key), INSUFFICIENT_RESOURCES. */
int32_t cm_resolve(struct cm *cm, struct cm_key *base, const uint16_t *path, size_t n,
                   unsigned flags, struct cm_key **out, bool *created);
/* Creates every missing component of a host UTF-8 path (mkdir -p). */
int32_t cm_create_path_utf8(struct cm *cm, const char *path, unsigned flags, struct cm_key **out);
/* Same for a host UTF-8 path ("\Registry\Machine\..." or "HKLM\..."). */
int32_t cm_resolve_utf8(struct cm *cm, const char *path, unsigned flags, struct cm_key **out);

/* ---- handles (handle.c) -------------------------------------------------- */
/* Makes a handle for k with the generic-mapped access. STATUS_SUCCESS or
 * STATUS_INSUFFICIENT_RESOURCES. */
int32_t cm_handle_open(struct cm *cm, struct cm_key *k, uint32_t access, bool kernel,
                       void **handle);
/* The key and granted access behind a handle: STATUS_SUCCESS,
 * STATUS_INVALID_HANDLE, STATUS_ACCESS_DENIED (need not granted) or
 * STATUS_KEY_DELETED (unless allow_deleted). */
int32_t cm_handle_get(struct cm *cm, void *handle, uint32_t need, bool allow_deleted,
                      struct cm_key **out);
int32_t cm_handle_close(struct cm *cm, void *handle);
uint32_t cm_map_access(uint32_t access);

/* ---- RelativeTo paths of the Rtl registry helpers (rtl_registry.c) ----- */
/* The key RelativeTo/Path names (RTL_REGISTRY_HANDLE: Path is a handle that
 * must grant need). create: make the last component if missing. NTSTATUS. */
int32_t cm_rtl_key(struct cm *cm, uint32_t relative_to, const uint16_t *path, bool create,
                   uint32_t need, struct cm_key **out);

/* ---- information records (info.c) ---------------------------------------- */
/* Fill a KEY_VALUE_*_INFORMATION / KEY_*_INFORMATION record of class cls
 * into buf (len bytes): STATUS_SUCCESS, STATUS_BUFFER_OVERFLOW (prefix
 * written), STATUS_BUFFER_TOO_SMALL (nothing written), INVALID_PARAMETER
 * (class; for enumeration only Basic, Node, Full); *result = full size. */
int32_t cm_info_value(const struct cm_value *v, int cls, void *buf, uint32_t len, uint32_t *result);
int32_t cm_info_key(const struct cm_key *k, int cls, bool enumerating, void *buf, uint32_t len,
                    uint32_t *result);

/* ---- checks shared by the entry points (zw_key.c) ------------------------ */
struct _UNICODE_STRING;
/* A counted string a driver passed: bad (even, within MaximumLength, a
 * buffer when not empty) -> the status given, else STATUS_SUCCESS. */
int32_t cm_check_ustr(const struct _UNICODE_STRING *s, int32_t bad);
/* The running system's registry. */
struct cm *cm_get(void);

/* ---- the SYSTEM hive (hive.c) -------------------------------------------- */
/* Attaches a hive file: loads it if it exists (replacing SYSTEM's
 * persistent content), else remembers the path for the first flush.
 * 0, or -1 with err (file and problem). */
int cm_hive_attach(struct cm *cm, const char *path, char *err, size_t errlen);
/* Writes SYSTEM to the attached file atomically. 0 or -1 with err. */
int cm_hive_flush(struct cm *cm, char *err, size_t errlen);
/* Writes SYSTEM to path atomically (whether or not attached). */
int cm_hive_write(struct cm *cm, const char *path, char *err, size_t errlen);
/* Reads a hive file into the subtree under key (its content replaced). */
int cm_hive_read(struct cm *cm, struct cm_key *key, const char *path, char *err, size_t errlen);
/* The bytes of an empty regf hive (root key only), for hivex to start from. */
size_t cm_regf_empty(uint8_t *buf, size_t len);

/* ---- .reg files (regfile.c) ---------------------------------------------- */
/* Imports REGEDIT4 or "Windows Registry Editor Version 5.00" text. Keys
 * under HKEY_LOCAL_MACHINE, HKEY_USERS, HKEY_CURRENT_USER (= .DEFAULT) or
 * \Registry. 0, or -1 with err "FILE:LINE: problem" (state may be partly
 * imported). */
int cm_reg_import(struct cm *cm, const char *text, size_t len, const char *name, char *err,
                  size_t errlen);
int cm_reg_import_file(struct cm *cm, const char *path, char *err, size_t errlen);
/* Exports the subtree at key; version 4 (REGEDIT4, ANSI) or 5. */
int cm_reg_export(struct cm *cm, struct cm_key *key, int version, FILE *out);
/* One value as regedit text ("dword:00000001", hex(7):..., "string"). */
void cm_reg_print_value(FILE *out, const struct cm_value *v, int version);

/* ---- device keys (device.c) ---------------------------------------------- */
/* The PnP manager declares a PDO: its Enum key is created and seeded with
 * the given description and hardware id. 0 or -1. */
int cm_device_add(struct cm *cm, const void *pdo, const char *instance, const char *class_guid,
                  const char *description, const char *hardware_id);
const struct cm_device *cm_device_find(const struct cm *cm, const void *pdo);
/* Declares a device interface by its symbolic link ("\??\ROOT#X#0000#{guid}"
 * with an optional "\RefString"): creates its DeviceClasses keys. 0 or -1. */
int cm_interface_add(struct cm *cm, const char *symbolic_link);

/* ---- verifier rules (rules.c) -------------------------------------------- */
extern const struct vf_rule cm_rule_zw_not_passive;
extern const struct vf_rule cm_rule_registry_direct_untrusted;
extern const struct vf_rule *const cm_vf_rules[];
enum { cm_vf_rule_count = 2 };
/* Fires irql.zw-not-passive when the current IRQL is above PASSIVE. */
void cm_check_passive(const char *routine, void *address);

#endif

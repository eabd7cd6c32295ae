/*
 * src/hal/hal.h - the HAL's DMA: adapters, map registers, bounce frames,
 * scatter/gather, common buffers, system DMA, and the bus that device
 * models use to reach memory. The whole interface of src/hal.
 *
 * Concepts (spec/dma.md 4; docs/dma.md has the pictures):
 * - Three addresses: the CPU's virtual address, the frame's physical
 *   address, and the logical address the device puts on the bus. Here a
 *   logical address is the physical address of the frame a map register
 *   targets: the buffer's own frame (direct) or a bounce frame below the
 *   device's reach (bounce).
 * - A map register aliases one logical page to one frame for one transfer;
 *   an adapter owns a file of them (its IoGetDmaAdapter count). A run of
 *   consecutive registers is what AllocateAdapterChannel grants; its
 *   MapRegisterBase is an opaque token carrying adapter, first register and
 *   generation, so a stale base is recognised.
 * - A device model never touches memory directly: the bus resolves each
 *   logical address through its adapter's mapped registers (direction, byte
 *   range, reach) and copies through the direct map.
 * - An S/G list of an adapter that maps pages 1:1 is a direct operation:
 *   one record per element, its registers allocated but not written; a
 *   page's register record is derived on demand (mapdirect.c).
 * Invariants: a register is free, allocated or mapped; free = clear bit in
 *   the bitmap; a mapped register's target is below the adapter's reach;
 *   bounce frames of an adapter are one physically contiguous run (so
 *   consecutive registers give consecutive logical addresses).
 */
#ifndef WDMSIM_HAL_H
#define WDMSIM_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wdm.h>

#include "machine/machine.h"

struct vf_rule;
struct hal;
struct hal_adapter;
struct hal_own;
struct wdmsim_dev;

enum hal_dir {
    hal_dir_none = 0,
    hal_dir_to_device = 1,   /* WriteToDevice TRUE: memory -> device */
    hal_dir_from_device = 2, /* device -> memory */
};
const char *hal_dir_name(enum hal_dir dir);

/* ---- map registers (mapreg.c) ---------------------------------------------- */
enum hal_reg_state {
    hal_reg_free = 0,
    hal_reg_allocated,
    hal_reg_mapped,
};

struct hal_mapreg {
    uint64_t target; /* frame the device touches (valid when mapped) */
    uint64_t source; /* the buffer's frame (== target unless bounce) */
    uint32_t gen;    /* run start: generation of the allocation */
    uint16_t run;    /* run start: registers in the run; else 0 */
    uint16_t offset; /* mapped bytes of the page: [offset, offset + length) */
    uint16_t length; /* pages are at most 8 KiB */
    uint8_t state;   /* enum hal_reg_state */
    uint8_t dir;     /* enum hal_dir while mapped */
    bool bounce;
    bool op_start; /* first register of one MapTransfer / list mapping */
    bool written;  /* the device wrote through it since it was mapped (stale-read) */
};
_Static_assert(sizeof(struct hal_mapreg) == 32, "two registers per cache line");

/* The operation a run of mapped registers belongs to, kept beside the
 * registers (written once per MapTransfer or list, not per page). */
struct hal_mapop {
    uintptr_t va;   /* its CurrentVa (an index, never dereferenced) */
    void *owner;    /* MDL (packet) or list (S/G) */
    uint32_t len;   /* bytes */
    uint16_t regs;  /* registers */
    uint8_t dir;    /* direct operations: enum hal_dir */
    bool run_regs;  /* direct operations: runs[].reg derived (hal_mapreg_direct_regs) */
    uint32_t nruns; /* > 0: a direct operation (below); 0: per-page registers */
};

/* A direct operation (mapdirect.c) is an S/G list of an adapter that maps
 * every page 1:1 (no bounce, no segment / boundary / page split): instead
 * of one register per page it keeps one record per element, at
 * runs[first .. first + nruns) for the operation at register first. Its
 * registers stay allocated and unwritten: reg[first].op_start and op[first]
 * describe it. Whoever needs a page's register record resolves it
 * (hal_mapreg_resolve) or expands the operation into ordinary per-page
 * registers (hal_mapreg_expand), which is exact: an element's interior page
 * boundaries are page-aligned in logical space (sg.c never builds a direct
 * operation that merges two MDLs in the middle of a page). */
struct hal_maprun {
    uint64_t logical; /* first byte, as the device emits it */
    uint32_t length;  /* bytes */
    uint32_t reg;     /* register of its first page: derived after the build,
                         valid once the operation's run_regs is set */
};

/* Grant callback of a queued request: registers [first, first + n) are now
 * allocated to it. Runs inside hal_mapreg_free, in the freeing context. */
typedef void hal_mapreg_grant_fn(void *ctx, unsigned first, unsigned n, uint32_t gen);
struct hal_mapreg_waiter {
    struct hal_mapreg_waiter *next;
    unsigned n;
    hal_mapreg_grant_fn *grant;
    void *ctx;
};

struct hal_mapreg_file {
    unsigned count;
    unsigned nfree;
    uint64_t *bitmap;       /* bit set = allocated */
    struct hal_mapreg *reg; /* count entries */
    struct hal_mapop *op;   /* count entries; valid where reg[i].op_start */
    uint32_t next_gen;
    struct hal_mapreg_waiter *wait_head, *wait_tail; /* FIFO */
    bool serving;                                    /* inside the grant loop */
    /* page the device touches (target frame) -> register, rebuilt lazily
     * after mapping changes; direct operations' pages included */
    uint64_t *index_key; /* page + 1, 0 = empty */
    uint32_t *index_reg;
    unsigned index_cap; /* power of two >= 2 * count */
    bool index_dirty;
    unsigned last_hit;
    unsigned nmapped; /* registers mapped: per page, or pages of direct operations */
    /* direct operations (mapdirect.c) */
    struct hal_maprun *runs; /* count entries */
    uint64_t *written;       /* bit per register: the device wrote that direct page */
    unsigned *direct;        /* first register of each live direct operation */
    unsigned ndirect;
    unsigned shift;    /* page shift of the direct operations */
    uint64_t lx_page;  /* logical page = target frame ^ lx_page (logical-offset) */
    unsigned last_op;  /* last direct hit: operation (first register) */
    unsigned last_run; /* and run (index into runs), valid when last_direct */
    bool last_direct;
    /* run statistics (wdmsim run's summary): never reset */
    unsigned high_water;   /* most registers allocated at once */
    uint64_t bounce_bytes; /* copied into and out of bounce frames */
};

/* Returns 0, or -1 when host memory runs out (nothing allocated). */
int hal_mapreg_init(struct hal_mapreg_file *f, unsigned count);
void hal_mapreg_fini(struct hal_mapreg_file *f);
/* Takes the lowest run of n consecutive free registers. Returns its first
 * register, or -1 with nothing changed when none fits now or a waiter is
 * queued ahead (FIFO: a head waiter blocks later requests). *gen gets the
 * allocation's generation. n must be 1..count. */
int hal_mapreg_alloc(struct hal_mapreg_file *f, unsigned n, uint32_t *gen);
/* Queues w (n, grant, ctx filled by the caller); it is granted from a later
 * hal_mapreg_free, in FIFO order. */
void hal_mapreg_wait(struct hal_mapreg_file *f, struct hal_mapreg_waiter *w);
/* Removes a queued waiter; false if it is not queued (already granted). */
bool hal_mapreg_cancel(struct hal_mapreg_file *f, struct hal_mapreg_waiter *w);
/* Frees the run [first, first + n) (every register unmapped first by the
 * caller), then grants queued waiters while the head one fits. */
void hal_mapreg_free(struct hal_mapreg_file *f, unsigned first, unsigned n);
/* True if [first, first+n) is exactly one live run with generation gen. */
bool hal_mapreg_run_valid(const struct hal_mapreg_file *f, unsigned first, unsigned n,
                          uint32_t gen);
/* Marks register i mapped / unmapped (index maintenance). */
void hal_mapreg_set_mapped(struct hal_mapreg_file *f, unsigned i);
void hal_mapreg_set_unmapped(struct hal_mapreg_file *f, unsigned i);
/* Register mapping page (the frame the device touches: logical address ^
 * logical_xor, >> page shift), or -1. Direct operations' pages included. */
int hal_mapreg_lookup(struct hal_mapreg_file *f, uint64_t page);
/* The same, with the page's register record in *view: the register itself,
 * or for a direct page the record its expansion would write. */
int hal_mapreg_resolve(struct hal_mapreg_file *f, uint64_t page, struct hal_mapreg *view);
/* The device wrote through register r (resolved): dma.stale-read's count. */
void hal_mapreg_mark_written(struct hal_mapreg_file *f, unsigned r);

/* ---- direct operations (mapdirect.c) --------------------------------------- */
/* Records the operation at register first as direct: its nruns runs are
 * already in runs[first...], covering regs registers, mapped in dir. Any
 * operation still live at first is released first. */
void hal_mapreg_direct_add(struct hal_mapreg_file *f, unsigned first, unsigned nruns, unsigned regs,
                           enum hal_dir dir);
/* Ends the direct operation at register first (no copy: nothing bounced). */
void hal_mapreg_direct_release(struct hal_mapreg_file *f, unsigned first);
/* True when register first starts a live direct operation. */
static inline bool hal_mapreg_is_direct(const struct hal_mapreg_file *f, unsigned first)
{
    return f->reg[first].op_start && f->op[first].nruns;
}
/* The direct operation holding register r (its first register), or -1. */
int hal_mapreg_direct_of(const struct hal_mapreg_file *f, unsigned r);
/* Run of the direct operation op holding its register r (binary search:
 * runs follow each other register for register). */
unsigned hal_mapreg_run_of(struct hal_mapreg_file *f, unsigned op, unsigned r);
/* Register r's record as hal_sg_build would have written it: the register
 * itself, or for a page of a direct operation the derived record (state
 * mapped). False when r is beyond the file or neither mapped nor direct.
 * Readers that print or walk registers (xferlog.c, own.c, !dma) use it
 * instead of reg[r]. It may fill the derived runs[].reg (a cache), hence
 * const only for the caller's convenience. */
bool hal_mapreg_view(const struct hal_mapreg_file *f, unsigned r, struct hal_mapreg *view);
/* Rewrites the direct operation at first as ordinary per-page registers
 * (state mapped, written carried over): what every reader of reg[] needs. */
void hal_mapreg_expand(struct hal_mapreg_file *f, unsigned first);
/* Fills runs[].reg of the direct operation op (one pass over its runs),
 * once: the build leaves it out, so that it writes nothing per element
 * beyond what the element itself needs. */
void hal_mapreg_direct_regs(struct hal_mapreg_file *f, unsigned op);
/* Register of logical page lp (address >> shift) in run k of the direct
 * operation at register op, with the record its expansion would write, or
 * -1 when the run does not cover lp. */
static inline int hal_maprun_page(struct hal_mapreg_file *f, unsigned op, unsigned k, uint64_t lp,
                                  struct hal_mapreg *view)
{
    if (__builtin_expect(!f->op[op].run_regs, 0))
        hal_mapreg_direct_regs(f, op);
    const struct hal_maprun *run = &f->runs[k];
    uint64_t p0 = run->logical >> f->shift, end = run->logical + run->length - 1;
    uint64_t last = end >> f->shift, mask = (1ULL << f->shift) - 1;
    if (lp < p0 || lp > last)
        return -1;
    unsigned r = run->reg + (unsigned)(lp - p0);
    uint64_t lo = lp == p0 ? run->logical & mask : 0;
    uint64_t hi = lp == last ? (end & mask) + 1 : mask + 1;
    view->target = view->source = lp ^ f->lx_page;
    view->gen = 0;
    view->run = 0;
    view->offset = (uint16_t)lo;
    view->length = (uint16_t)(hi - lo);
    view->state = hal_reg_mapped;
    view->dir = f->op[op].dir;
    view->bounce = false;
    view->op_start = r == op;
    view->written = (f->written[r / 64] >> (r % 64)) & 1;
    return (int)r;
}
/* Debug-build whole-object check: nfree equals the clear bits, run starts
 * cover allocated registers exactly. Returns true when consistent. */
bool hal_mapreg_check(const struct hal_mapreg_file *f);

/* MapRegisterBase tokens: an opaque, never-dereferenced kernel-looking
 * value carrying adapter id, first register and generation. */
void *hal_base_encode(unsigned adapter_id, unsigned first, uint32_t gen);
bool hal_base_decode(const void *base, unsigned *adapter_id, unsigned *first, uint32_t *gen);

/* ---- what an adapter can reach and how it splits (adapter.c) --------------- */
struct hal_dma_limits {
    unsigned page_shift;
    uint64_t reach_frames; /* frames below this are reachable (2^width >> shift) */
    uint64_t max_segment;  /* bytes per S/G element, 0 = no limit */
    uint64_t boundary;     /* elements never cross a multiple of this, 0 = none */
    bool scatter_gather;   /* else one logically contiguous run per operation */
    bool bounce_all;       /* double-buffer option */
    bool split_pages;      /* one element per page (option split-pages) */
    uint64_t block;        /* system DMA: the 64/128 KiB block a run stays in; 0 = none */
    uint64_t logical_xor;  /* logical = physical ^ this (option logical-offset); 0 = equal */
};

/* ---- scatter/gather building (sg.c) ---------------------------------------- */
/* The pages of a transfer: the MDL chain from cur_va for length bytes. */
struct hal_sg_walk {
    PMDL mdl;
    uintptr_t cur_va;
    uint64_t length;
};

/* Counts pages and checks the chain covers the transfer. Returns 0, or -1
 * when the chain from cur_va is shorter than length, or cur_va is outside
 * the first MDL. */
int hal_sg_span(const struct hal_sg_walk *w, unsigned page_shift, uint64_t *pages);

/* Fills registers reg[first...] for the transfer and writes elements.
 * Elements beyond cap are only counted (cap 0 + out NULL: calculate). Per
 * page: direct when the frame is reachable and not bounce_all, else the
 * register's bounce frame (bounce_base + register index); for adapters
 * without S/G, all pages bounce unless every frame is reachable and
 * consecutive. to-device bounces are copied now (needs ram). Returns the
 * number of elements, or -1 when bouncing is needed and bounce_base is
 * UINT64_MAX. */
struct hal_sg_out {
    SCATTER_GATHER_ELEMENT *el;
    unsigned cap;
    unsigned count;
    uint64_t registers; /* registers used */
    bool direct;        /* hal_sg_build_list made a direct operation */
};
long hal_sg_build(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                  struct hal_mapreg_file *f, unsigned first, uint64_t bounce_base, enum hal_dir dir,
                  struct ram *ram, struct hal_sg_out *out);
/* The build behind Get/BuildScatterGatherList: the same elements as
 * hal_sg_build, recorded as a direct operation at register first
 * (hal_mapreg_direct_add, dir) when the adapter maps pages 1:1 with no
 * split (S/G, no double buffering, no segment / boundary / page split, no
 * system DMA block) and every frame is reachable; else per-page registers
 * through hal_sg_build. out->direct says which. Returns as hal_sg_build. */
long hal_sg_build_list(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                       struct hal_mapreg_file *f, unsigned first, uint64_t bounce_base,
                       enum hal_dir dir, struct ram *ram, struct hal_sg_out *out);
/* Elements a transfer needs without building it (CalculateScatterGatherList
 * with an MDL): same merge and split rules, no register touched. */
long hal_sg_count(const struct hal_sg_walk *w, const struct hal_dma_limits *lim,
                  uint64_t bounce_base);
/* Copies bounced device->memory registers of [first, first+n) back to their
 * source frames (exactly the mapped bytes) and unmaps every register. */
void hal_sg_unmap(struct hal_mapreg_file *f, unsigned first, unsigned n, bool copy_back,
                  struct ram *ram, unsigned page_shift);

/* ---- the bus seen by device models (bus.c; include/wdmsim/device_dma.h) ---- */
enum hal_bus_fault {
    hal_bus_ok = 0,
    hal_bus_beyond_reach,    /* dma.device-beyond-reach */
    hal_bus_unmapped,        /* dma.device-outside-mapping */
    hal_bus_wrong_direction, /* dma.device-wrong-direction */
    hal_bus_not_ram,         /* mapped, but the frame is not RAM: internal */
};
struct hal_bus_fault_info {
    enum hal_bus_fault fault;
    uint64_t logical; /* first byte that failed */
    enum hal_dir dir; /* what the device tried */
    int nearest_reg;  /* register nearest to the miss, -1 none */
};
/* Moves len bytes between a device and memory through adapter a: each page
 * is resolved through a's mapped registers (or 1:1 when a passes through).
 * Nothing is copied past the first fault. Returns 0 or the fault. */
enum hal_bus_fault hal_bus_access(struct hal_adapter *a, uint64_t logical, void *buf, size_t len,
                                  enum hal_dir dir, struct hal_bus_fault_info *info);

/* ---- common buffers (common.c) ---------------------------------------------- */
struct hal_common_buffer {
    struct hal_common_buffer *next;
    void *va;
    uint64_t logical; /* == physical address of the first frame */
    uint64_t bytes;   /* as asked (Length) */
    uint64_t npages;
    bool cached;
};
/* The common buffer of a covering [logical, logical + len), or NULL. */
struct hal_common_buffer *hal_common_find(struct hal_adapter *a, uint64_t logical, uint64_t len);
/* True when every page of [va, va + len) of mdl is a frame of one of a's
 * common buffers (MapTransfer then maps it directly, double-buffered or not). */
bool hal_common_holds(struct hal_adapter *a, const MDL *mdl, uintptr_t va, uint64_t len);

/* ---- adapters (adapter.c) ------------------------------------------------- */
enum { hal_adapter_magic = 0x4C414841 /* 'AHAL' */ };

struct hal_adapter {
    DMA_ADAPTER pub; /* first: PDMA_ADAPTER points here */
    uint32_t magic;
    unsigned id; /* for MapRegisterBase tokens */
    struct hal *hal;
    struct hal_adapter *next; /* hal->adapters */
    uintptr_t caller;         /* return address of IoGetDmaAdapter (the driver, leak-at-unload) */
    struct wdmsim_dev *dev;   /* device model whose bus accesses go through it */
    PDEVICE_OBJECT pdo;
    /* description */
    ULONG desc_version;
    bool master, ignore_count, auto_init, demand_mode;
    int channel;    /* system DMA channel 0-7, -1 for masters */
    unsigned width; /* address bits the device emits */
    uint32_t max_length;
    uint32_t alignment; /* GetDmaAlignment */
    unsigned nregs;     /* the IoGetDmaAdapter count */
    struct hal_dma_limits lim;
    struct hal_mapreg_file regs;
    uint64_t bounce_base; /* first bounce frame, UINT64_MAX none */
    uint64_t bounce_frames;
    bool pass_through; /* 1:1 master: the bus still checks mappings */
    /* channel (AllocateAdapterChannel): one holder, FIFO of waiters */
    bool channel_held;
    PDEVICE_OBJECT channel_owner;
    struct hal_chan_req *chan_head, *chan_tail;
    struct hal_chan_req *chan_active; /* holder's request while waiting for registers */
    bool chan_regs;                   /* KeepObject: registers held with the channel */
    unsigned chan_first, chan_n;
    uint32_t chan_gen;
    unsigned in_control; /* inside AdapterControl / list control */
    struct hal_common_buffer *commons;
    /* accounting for the verifier */
    unsigned common_buffers, sg_lists, runs_held;
    bool dead; /* after PutDmaAdapter */
    /* run statistics (hal_stats_get): never reset, kept after Put */
    uint64_t bus_to_device, bus_from_device; /* bytes the bus moved for the device */
    uint64_t sg_built, sg_elements;          /* S/G lists handed to drivers, their elements */
};

/* What the run did with DMA, summed over every adapter ever made. */
struct hal_stats {
    unsigned adapters;
    uint64_t bus_to_device, bus_from_device;
    uint64_t sg_lists, sg_elements;
    uint64_t bounce_bytes;
    unsigned mapreg_high_water; /* the largest of any one adapter */
    unsigned mapreg_count;      /* that adapter's register count */
};
void hal_stats_get(struct hal *hal, struct hal_stats *out);

struct hal_config {
    unsigned master_cap;  /* most registers for a bus master (256) */
    unsigned slave8_cap;  /* channels 0-3 (16) */
    unsigned slave16_cap; /* channels 5-7 (32) */
};

/* A queued AllocateAdapterChannel (or the list part of GetScatterGatherList). */
struct hal_chan_req {
    struct hal_chan_req *next;     /* adapter's channel FIFO */
    struct hal_mapreg_waiter wait; /* register FIFO */
    struct hal_adapter *adapter;
    PDEVICE_OBJECT device;
    PIRP irp; /* DeviceObject->CurrentIrp at call time */
    unsigned n;
    PDRIVER_CONTROL routine;
    PVOID context;
};

/* A slave device model on a system DMA channel (device_dma.c). */
struct wdmsim_dma_slave_ops;
struct hal_slave {
    const struct wdmsim_dma_slave_ops *ops;
    void *state;
    struct wdmsim_dev *dev;
};

struct hal {
    struct machine *machine;
    struct hal_slave slave[8];
    struct hal_adapter *channel_owner[8]; /* system DMA channel -> adapter */
    uint64_t flush_io_buffers;            /* KeFlushIoBuffers calls (recorded, no effect) */
    void *sg_quarantine[64];              /* put Get-lists, freed late (sgops.c) */
    unsigned sg_q_next;
    struct hal_config cfg;
    struct hal_adapter *adapters;
    unsigned next_id;
    bool double_buffer;  /* vf_opt_double_buffer at boot */
    bool own_protect;    /* vf_opt_dma_ownership at boot: own.c protects owned buffers */
    bool logical_offset; /* vf_opt_logical_offset at boot: masters' logical != physical */
    struct hal_own *own; /* own.c: live device-ownership windows */
    unsigned nown, own_cap;
    struct hal_xferlog *xlog; /* transfer log for drawings (xferlog.c); NULL = off */
    /* Tests of the machinery without a running system: when set, violations
     * call this instead of the verifier. */
    void (*violation_hook)(void *ctx, const struct vf_rule *rule, uint64_t a, uint64_t b,
                           uint64_t c);
    void *violation_ctx;
};

void hal_init(struct hal *hal, struct machine *m);
void hal_fini(struct hal *hal);

/* A verifier rule of this layer fired with P2-P4 = a, b, c. */
void hal_violation(struct hal *hal, const struct vf_rule *rule, uint64_t a, uint64_t b, uint64_t c,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Machinery adapter constructor behind IoGetDmaAdapter: NULL with *why set
 * ("version", "channel" ...) when the description is refused. */
struct hal_adapter *hal_adapter_create(struct hal *hal, const DEVICE_DESCRIPTION *desc,
                                       const char **why);
void hal_adapter_destroy(struct hal_adapter *a);
/* Device model whose accesses go through a (PnP binds PDO and model). */
void hal_adapter_bind(struct hal_adapter *a, struct wdmsim_dev *dev);
struct hal_adapter *hal_adapter_of_dev(struct hal *hal, const struct wdmsim_dev *dev);
struct hal_adapter *hal_adapter_by_id(struct hal *hal, unsigned id);
/* Highest reach for a description (spec/dma.md 1 table). */
unsigned hal_desc_width(const DEVICE_DESCRIPTION *desc);

/* ---- WDK entry points (dma_api.c and the files named) ------------------------
 * Each checks the adapter (dma.null-adapter, dma.adapter-after-put) and the
 * IRQL rule of spec/dma.md 3, then calls the machinery. */
enum hal_irql_rule {
    hal_irql_any,
    hal_irql_passive,  /* exactly PASSIVE_LEVEL */
    hal_irql_dispatch, /* exactly DISPATCH_LEVEL */
    hal_irql_max_d,    /* at most DISPATCH_LEVEL */
};
struct hal_adapter *hal_enter(PDMA_ADAPTER p, enum hal_irql_rule rule, const char *routine);
/* Runs an AdapterControl routine at DISPATCH_LEVEL and applies its result. */
void hal_run_control(struct hal_chan_req *req, unsigned first, unsigned n, uint32_t gen);
/* Registers [first, first + n) of a still hold an unflushed transfer:
 * reports dma.free-while-mapped naming routine and returns true (packet.c). */
bool hal_report_still_mapped(struct hal_adapter *a, unsigned first, unsigned n,
                             const char *routine);
/* Releases the adapter channel and starts the next queued request. */
void hal_channel_release(struct hal_adapter *a);
/* Decodes a MapRegisterBase of adapter a: run start, size, generation;
 * reports dma.map-register-use-after-free when it is stale or foreign. */
bool hal_base_check(struct hal_adapter *a, PVOID base, unsigned *first, unsigned *n);

/* system DMA (sysdma.c) */
void hal_sysdma_init(struct hal *hal);
void hal_sysdma_program(struct hal_adapter *a, uint64_t pa, uint32_t len, bool to_device);
void hal_sysdma_mask(struct hal_adapter *a);
bool hal_sysdma_active(const struct hal_adapter *a);
uint32_t hal_sysdma_remaining(struct hal_adapter *a);

/* The operations tables (dma_api.c) and each routine (files named). */
extern const DMA_OPERATIONS hal_ops_v1, hal_ops_v2, hal_ops_v3;
PUT_DMA_ADAPTER hal_op_put_dma_adapter;               /* dma_api.c */
ALLOCATE_COMMON_BUFFER hal_op_allocate_common_buffer; /* common.c */
FREE_COMMON_BUFFER hal_op_free_common_buffer;
GET_DMA_ALIGNMENT hal_op_get_dma_alignment;
ALLOCATE_ADAPTER_CHANNEL hal_op_allocate_adapter_channel; /* packet.c */
FLUSH_ADAPTER_BUFFERS hal_op_flush_adapter_buffers;
FREE_ADAPTER_CHANNEL hal_op_free_adapter_channel;
FREE_MAP_REGISTERS hal_op_free_map_registers;
MAP_TRANSFER hal_op_map_transfer;
READ_DMA_COUNTER hal_op_read_dma_counter;               /* sysdma.c */
GET_SCATTER_GATHER_LIST hal_op_get_scatter_gather_list; /* sgops.c */
PUT_SCATTER_GATHER_LIST hal_op_put_scatter_gather_list;
CALCULATE_SCATTER_GATHER_LIST_SIZE hal_op_calculate_scatter_gather_list;
BUILD_SCATTER_GATHER_LIST hal_op_build_scatter_gather_list;
BUILD_MDL_FROM_SCATTER_GATHER_LIST hal_op_build_mdl_from_scatter_gather_list;
GET_DMA_ADAPTER_INFO hal_op_get_dma_adapter_info; /* v3.c */
GET_DMA_TRANSFER_INFO hal_op_get_dma_transfer_info;
INITIALIZE_DMA_TRANSFER_CONTEXT hal_op_initialize_dma_transfer_context;
ALLOCATE_COMMON_BUFFER_EX hal_op_allocate_common_buffer_ex;
ALLOCATE_ADAPTER_CHANNEL_EX hal_op_allocate_adapter_channel_ex;
CONFIGURE_ADAPTER_CHANNEL hal_op_configure_adapter_channel;
CANCEL_ADAPTER_CHANNEL hal_op_cancel_adapter_channel;
MAP_TRANSFER_EX hal_op_map_transfer_ex;
GET_SCATTER_GATHER_LIST_EX hal_op_get_scatter_gather_list_ex;
BUILD_SCATTER_GATHER_LIST_EX hal_op_build_scatter_gather_list_ex;
FLUSH_ADAPTER_BUFFERS_EX hal_op_flush_adapter_buffers_ex;
FREE_ADAPTER_OBJECT hal_op_free_adapter_object;
CANCEL_MAPPED_TRANSFER hal_op_cancel_mapped_transfer;
ALLOCATE_DOMAIN_COMMON_BUFFER hal_op_allocate_domain_common_buffer;
FLUSH_DMA_BUFFER hal_op_flush_dma_buffer;
JOIN_DMA_DOMAIN hal_op_join_dma_domain;
LEAVE_DMA_DOMAIN hal_op_leave_dma_domain;
GET_DMA_DOMAIN hal_op_get_dma_domain;

/* The list machinery behind Get/Build(Ex) (sgops.c). buffer NULL: the HAL
 * allocates. sync_out non-NULL: build now or fail with
 * STATUS_INSUFFICIENT_RESOURCES, no routine called, list returned there. */
NTSTATUS hal_sg_start(struct hal_adapter *a, PDEVICE_OBJECT dev, PMDL Mdl, PVOID CurrentVa,
                      ULONG Length, PDRIVER_LIST_CONTROL routine, PVOID Context,
                      BOOLEAN WriteToDevice, void *buffer, ULONG buflen,
                      PSCATTER_GATHER_LIST *sync_out);
ULONG hal_sg_list_size(unsigned nel);

/* Common-buffer machinery shared by the v1 and v3 entry points: NULL when
 * no run of frames below max_pa (exclusive) fits. */
void *hal_common_alloc(struct hal_adapter *a, ULONG length, uint64_t max_pa, bool cached,
                       PHYSICAL_ADDRESS *logical);
/* Reports a device-side bus fault of adapter a as its verifier rule. */
void hal_bus_report(struct hal_adapter *a, const struct hal_bus_fault_info *info, size_t len);

/* ---- device ownership of mapped buffers (own.c) ------------------------------
 * With own_protect, every system-space page wholly inside a mapped transfer
 * (the MDL's own VA and its system mapping) is protected while the device
 * owns it: PROT_NONE for device->memory, PROT_READ for memory->device, from
 * MapTransfer / list build to the flush / Put. The fault resolver reports a
 * touch as dma.cpu-touch-owned, or dma.stale-read when the CPU reads data
 * the device already wrote. Common buffers are exempt. */
struct hal_own {
    uintptr_t lo, hi; /* whole pages, host addresses */
    void *owner;      /* MDL (packet) or list */
    unsigned adapter; /* adapter id */
    unsigned first;   /* first register of the operation */
    unsigned regs;
    uint8_t dir; /* enum hal_dir */
};
/* The transfer [va, va + len) of the MDL chain w is now owned by the device
 * through registers [first, first + regs) of a. */
void hal_own_begin(struct hal_adapter *a, const struct hal_sg_walk *w, void *owner, unsigned first,
                   unsigned regs, enum hal_dir dir);
/* Ends every window of a's registers [first, first + n): pages back to
 * their PTE's protection (or the strictest window still covering them). */
void hal_own_end_slow(struct hal_adapter *a, unsigned first, unsigned n);
static inline void hal_own_end(struct hal_adapter *a, unsigned first, unsigned n)
{
    if (a->hal->nown)
        hal_own_end_slow(a, first, n);
}
void hal_own_fini(struct hal *hal);
/* The SIGSEGV resolver (registered at the first window). */
struct sys;
int hal_own_resolve(struct sys *sys, void *addr, int access, void *pc);

/* Ends the device's ownership and unmaps [first, first + n) (hal_sg_unmap). */
static inline void hal_unmap(struct hal_adapter *a, unsigned first, unsigned n, bool copy_back,
                             struct ram *ram)
{
    hal_own_end(a, first, n);
    hal_sg_unmap(&a->regs, first, n, copy_back, ram, a->lim.page_shift);
}

/* ---- checks of a new mapping (checks.c) ---------------------------------------
 * dma.stack-buffer and dma.overlap on the transfer about
 * to be mapped; false when one fired (the map is refused). */
bool hal_check_map(struct hal_adapter *a, const struct hal_sg_walk *w, void *owner,
                   enum hal_dir dir);
/* After DriverUnload of the image [lo, hi): adapters it made (not put) that
 * still hold map registers, common buffers or lists (dma.leak-at-unload). */
void hal_check_unload(struct hal *hal, uintptr_t lo, uintptr_t hi);

/* ---- the transfer log (xferlog.c; docs/draw.md) ------------------------------
 * A ring of the last transfers (MapTransfer .. FlushAdapterBuffers, list
 * built .. PutScatterGatherList) and of the buffers of the last requests the
 * I/O manager built, with the facts a drawing of them needs. Off (xlog NULL)
 * unless the host asks (wdmsim_draw_record): then every hook is one pointer
 * test. Transfers are numbered from 1 in map order, as the trace's DMA
 * slices are. Pages and elements beyond the caps are counted, not kept. */
enum { hal_xfer_max_pages = 32, hal_xfer_max_els = 32 };
enum hal_xfer_kind {
    hal_xfer_packet = 1, /* MapTransfer */
    hal_xfer_list,       /* Get/BuildScatterGatherList */
};
struct hal_xfer_page {
    uint64_t va;             /* the page's virtual address (page aligned) */
    uint64_t frame;          /* the buffer's frame (MDL PFN array) */
    uint64_t target;         /* the frame the register maps: == frame unless bounced */
    uint32_t reg;            /* map register index */
    uint16_t offset, length; /* bytes of the page in the transfer */
    bool bounce;
};
struct hal_xfer_el {
    uint64_t logical;
    uint32_t length;
};
struct hal_xfer {
    unsigned seq; /* 1, 2 ... in map order; 0 = empty slot */
    enum hal_xfer_kind kind;
    enum hal_dir dir;
    unsigned adapter; /* adapter id */
    int channel;      /* system DMA channel, -1 for masters */
    bool master, scatter_gather, auto_init;
    unsigned width;  /* address bits of the device */
    uint64_t device; /* PDEVICE_OBJECT of the list / channel request, 0 unknown */
    uint64_t mdl, mdl_start_va;
    uint32_t mdl_byte_offset, mdl_byte_count;
    uint64_t va; /* CurrentVa */
    uint32_t length;
    unsigned first_reg, npages, nels;
    struct hal_xfer_page page[hal_xfer_max_pages];
    struct hal_xfer_el el[hal_xfer_max_els];
    uint64_t copied_in;     /* bytes bounced to the device at map time */
    uint64_t copied_back;   /* bytes bounced back at flush / put */
    uint64_t t_map, t_done; /* virtual time (ns) */
    bool done;
};
enum hal_io_method {
    hal_io_buffered = 1,
    hal_io_direct,
    hal_io_neither,
};
struct hal_iobuf_page {
    uint64_t va, frame; /* frame 0 with present false: not mapped */
    bool present;
};
struct hal_iobuf_area {
    uint64_t va;
    uint32_t length;
    unsigned npages; /* may exceed the pages kept */
    struct hal_iobuf_page page[hal_xfer_max_pages];
};
struct hal_iobuf {
    unsigned seq; /* 1, 2 ... in submission order; 0 = empty */
    uint64_t irp, device;
    uint8_t major;
    uint32_t code; /* IOCTL code, 0 for read/write */
    enum hal_io_method method;
    int mode;                     /* RequestorMode */
    struct hal_iobuf_area in;     /* the caller's input buffer */
    struct hal_iobuf_area out;    /* the caller's output buffer */
    struct hal_iobuf_area sysbuf; /* AssociatedIrp.SystemBuffer */
    uint64_t mdl;                 /* MdlAddress */
    uint64_t mdl_start_va;
    uint32_t mdl_byte_offset, mdl_byte_count;
    unsigned mdl_npages;
    uint64_t mdl_frames[hal_xfer_max_pages];
    uint64_t t_submit;
};
struct hal_xferlog {
    unsigned cap, iocap;
    unsigned next, ionext; /* sequence numbers handed out */
    struct hal_xfer *ring; /* cap slots: seq % cap */
    struct hal_iobuf *ioring;
};
/* Starts keeping the last cap transfers and iocap requests (0: 256, 64).
 * Returns 0, or -1 when host memory runs out (log stays off). */
int hal_xferlog_start(struct hal *hal, unsigned cap, unsigned iocap);
void hal_xferlog_stop(struct hal *hal);
/* Record seq, or NULL when it was never made or has left the ring. */
const struct hal_xfer *hal_xferlog_get(const struct hal *hal, unsigned seq);
const struct hal_iobuf *hal_xferlog_get_io(const struct hal *hal, unsigned seq);
/* Hooks: a transfer mapped (registers [first, first + npages) filled, els
 * its elements); the transfer starting at register first of adapter a about
 * to be unmapped (its registers still mapped); a request built, before
 * IoCallDriver. */
void hal_xferlog_map_rec(struct hal_adapter *a, enum hal_xfer_kind kind, PMDL mdl, uintptr_t va,
                         uint32_t length, enum hal_dir dir, unsigned first, unsigned npages,
                         const SCATTER_GATHER_ELEMENT *els, unsigned nels, PDEVICE_OBJECT dev);
void hal_xferlog_unmap_rec(struct hal_adapter *a, unsigned first);
void hal_xferlog_irp_rec(struct hal *hal, PIRP irp, PDEVICE_OBJECT dev, uint8_t major,
                         uint32_t code, void *in, uint32_t in_len, void *out, uint32_t out_len);
static inline void hal_xferlog_map(struct hal_adapter *a, enum hal_xfer_kind kind, PMDL mdl,
                                   uintptr_t va, uint32_t length, enum hal_dir dir, unsigned first,
                                   unsigned npages, const SCATTER_GATHER_ELEMENT *els,
                                   unsigned nels, PDEVICE_OBJECT dev)
{
    if (a->hal->xlog)
        hal_xferlog_map_rec(a, kind, mdl, va, length, dir, first, npages, els, nels, dev);
}
static inline void hal_xferlog_unmap(struct hal_adapter *a, unsigned first)
{
    if (a->hal->xlog)
        hal_xferlog_unmap_rec(a, first);
}
static inline void hal_xferlog_irp(struct hal *hal, PIRP irp, PDEVICE_OBJECT dev, uint8_t major,
                                   uint32_t code, void *in, uint32_t in_len, void *out,
                                   uint32_t out_len)
{
    if (hal->xlog)
        hal_xferlog_irp_rec(hal, irp, dev, major, code, in, in_len, out, out_len);
}

/* ---- verifier rules of this layer (rules.c) ------------------------------- */
extern const struct vf_rule *const hal_vf_rules[];
enum { hal_vf_rule_count = 52 };
extern const struct vf_rule hal_rule_common_buffer_double_free;
extern const struct vf_rule hal_rule_channel_double_free;
extern const struct vf_rule hal_rule_map_registers_double_free;
extern const struct vf_rule hal_rule_sg_double_put;
extern const struct vf_rule hal_rule_put_with_common_buffers;
extern const struct vf_rule hal_rule_put_with_channels;
extern const struct vf_rule hal_rule_put_with_map_registers;
extern const struct vf_rule hal_rule_put_with_sg_lists;
extern const struct vf_rule hal_rule_channel_twice;
extern const struct vf_rule hal_rule_map_beyond_grant;
extern const struct vf_rule hal_rule_flush_missing;
extern const struct vf_rule hal_rule_unlocked_buffer;
extern const struct vf_rule hal_rule_free_while_mapped;
extern const struct vf_rule hal_rule_irql;
extern const struct vf_rule hal_rule_map_registers_over_max;
extern const struct vf_rule hal_rule_flush_unmapped_buffer;
extern const struct vf_rule hal_rule_adapter_after_put;
extern const struct vf_rule hal_rule_null_adapter;
extern const struct vf_rule hal_rule_va_outside_mdl;
extern const struct vf_rule hal_rule_double_map;
extern const struct vf_rule hal_rule_legacy_hal_call;
extern const struct vf_rule hal_rule_bad_buffer;
extern const struct vf_rule hal_rule_zero_length;
extern const struct vf_rule hal_rule_unknown_description_version;
extern const struct vf_rule hal_rule_bad_description;
extern const struct vf_rule hal_rule_desc_not_zeroed;
extern const struct vf_rule hal_rule_bad_allocation_action;
extern const struct vf_rule hal_rule_free_count_mismatch;
extern const struct vf_rule hal_rule_common_buffer_mismatch;
extern const struct vf_rule hal_rule_counter_on_master;
extern const struct vf_rule hal_rule_device_outside_mapping;
extern const struct vf_rule hal_rule_device_wrong_direction;
extern const struct vf_rule hal_rule_device_beyond_reach;
extern const struct vf_rule hal_rule_map_register_use_after_free;
extern const struct vf_rule hal_rule_sdma_block_wrap;
extern const struct vf_rule hal_rule_sdma_driver_port_access;
extern const struct vf_rule hal_rule_sdma_illegal_mode;
extern const struct vf_rule hal_rule_sdma_unsupported_command;
extern const struct vf_rule hal_rule_sdma_flush_active_channel;
extern const struct vf_rule hal_rule_wrong_release_api;
extern const struct vf_rule hal_rule_flush_direction_mismatch;
extern const struct vf_rule hal_rule_flush_range;
extern const struct vf_rule hal_rule_flush_past_end;
extern const struct vf_rule hal_rule_flush_unmapped_register;
extern const struct vf_rule hal_rule_buffer_too_small;
extern const struct vf_rule hal_rule_cpu_touch_owned;
extern const struct vf_rule hal_rule_stale_read;
extern const struct vf_rule hal_rule_leak_at_unload;
extern const struct vf_rule hal_rule_unchecked_failure;
extern const struct vf_rule hal_rule_stack_buffer;
extern const struct vf_rule hal_rule_overlap;
extern const struct vf_rule hal_rule_physical_address_used;

#endif

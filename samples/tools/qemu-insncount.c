/*
 * qemu-insncount: a minimal TCG plugin for QEMU 7.2 that counts executed
 * guest instructions whose address lies in [min, max) (default 1 MiB to
 * 16 MiB: the kernel, but not SeaBIOS and the multiboot option ROM that run
 * before it, below 1 MiB or relocated to the top of RAM). Counting is per translated block, inline, so a block cut short
 * by an exception counts whole; every REP iteration counts as one.
 *
 *   make -C samples insncount
 *   qemu-system-i386 -plugin samples/build/obj/qemu-insncount.so[,min=0x100000,max=0x1000000] ...
 *
 * The count is written to $INSNCOUNT_OUT (default stderr) at exit as
 * "insns N". The declarations below are the few parts of QEMU's
 * qemu-plugin.h (plugin API version 1) that this file uses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

static uint64_t count;
static uint64_t min_addr = 0x100000;
static uint64_t max_addr = 0x1000000;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    uint64_t pc = qemu_plugin_tb_vaddr(tb);
    if (pc >= min_addr && pc < max_addr)
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &count,
                                                 qemu_plugin_tb_n_insns(tb));
}

static void at_exit_report(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    const char *path = getenv("INSNCOUNT_OUT");
    FILE *f = path ? fopen(path, "w") : stderr;
    if (!f)
        return;
    fprintf(f, "insns %llu\n", (unsigned long long)count);
    if (f != stderr)
        fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "min=", 4) == 0)
            min_addr = strtoull(argv[i] + 4, NULL, 0);
        else if (strncmp(argv[i], "max=", 4) == 0)
            max_addr = strtoull(argv[i] + 4, NULL, 0);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit_report, NULL);
    return 0;
}
